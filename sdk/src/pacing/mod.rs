//! Adaptive pacing: one [`Limiter`] per server authority (scheme, host and port) and
//! `RateLimit` partition, shared by the clones of a client.
//!
//! Before a request is sent the client reserves a token from the limiter of the partition the
//! request's method was last counted in (the authority's unnamed partition until a `RateLimit`
//! field names one) and sleeps for the wait it gets; the answer is fed back as a [`Signal`].
//! A limiter paces only after its first congestion signal (a 429, or a `RateLimit` remaining
//! under half of its `RateLimit-Policy` quota), so a client that is never throttled never
//! waits; until then it only counts its sends (one uncontended lock per request).

mod cbrt;
mod fields;
mod limiter;
#[cfg(test)]
mod sim;

use std::{sync::Arc, sync::Mutex, time::Duration};

use http::{HeaderMap, Method, StatusCode};
use web_time::Instant;

use fields::Level;
use limiter::{Limiter, Signal};

/// The partitions of one authority.
#[derive(Debug, Default)]
struct Authority {
    /// The partition each method's answers were last counted in.
    methods: Vec<(Method, Arc<str>)>,
    /// The limiters, by partition name ("" until the server names one).
    limiters: Vec<(Arc<str>, Limiter)>,
}

impl Authority {
    fn partition(&self, method: &Method) -> Arc<str> {
        self.methods
            .iter()
            .find(|(m, _)| m == method)
            .map_or_else(|| Arc::from(""), |(_, p)| p.clone())
    }

    /// The limiter of `partition`; a new one starts from `template`'s measurements.
    fn limiter(&mut self, partition: &Arc<str>, template: &Arc<str>) -> &mut Limiter {
        let index = match self.limiters.iter().position(|(p, _)| p == partition) {
            Some(i) => i,
            None => {
                let start = self
                    .limiters
                    .iter()
                    .find(|(p, _)| p == template)
                    .map_or_else(Limiter::new, |(_, l)| l.clone());
                self.limiters.push((partition.clone(), start));
                self.limiters.len() - 1
            }
        };
        &mut self.limiters[index].1
    }
}

/// A reservation: which limiter a request was paced by and its place in that limiter's order.
#[derive(Debug)]
pub(crate) struct Ticket {
    partition: Arc<str>,
    seq: u64,
}

/// The limiters of every authority a client talks to.
///
/// A `Vec` searched in order, not a `HashMap`: a client talks to a few authorities, and a map
/// of its own type is another instance of the hash table's code in the npm package's wasm
/// (docs/performance.md).
#[derive(Debug, Default)]
pub(crate) struct Pacing {
    authorities: Mutex<Vec<(String, Authority)>>,
}

/// The entry of `authority` in `authorities`, if any.
fn find<'a>(
    authorities: &'a mut [(String, Authority)],
    authority: &str,
) -> Option<&'a mut Authority> {
    authorities
        .iter_mut()
        .find(|(a, _)| a == authority)
        .map(|(_, entry)| entry)
}

impl Pacing {
    /// Reserves a token for `method` to `authority` at `now`: the ticket to hand back with the
    /// answer, and how long to wait before sending.
    pub(crate) fn reserve(
        &self,
        authority: &str,
        method: &Method,
        now: Instant,
    ) -> (Ticket, Duration) {
        let mut authorities = self.lock();
        let index = match authorities.iter().position(|(a, _)| a == authority) {
            Some(i) => i,
            None => {
                authorities.push((authority.to_owned(), Authority::default()));
                authorities.len() - 1
            }
        };
        let entry = &mut authorities[index].1;
        let partition = entry.partition(method);
        let (seq, wait) = entry.limiter(&partition, &partition).reserve(now);
        (Ticket { partition, seq }, wait)
    }

    /// Feeds the answer to a request reserved with `ticket` back to its limiter.
    pub(crate) fn observe(
        &self,
        authority: &str,
        method: &Method,
        ticket: Ticket,
        status: StatusCode,
        headers: &HeaderMap,
        now: Instant,
    ) {
        let reading = fields::read(headers);
        let level = reading.as_ref().map_or(Level::Unknown, |r| r.level);
        let ceiling = match level {
            Level::Low { ceiling } => Some(ceiling),
            _ => None,
        };
        let signal = match (status, level) {
            (StatusCode::TOO_MANY_REQUESTS, _) => Signal::Throttled(ceiling),
            (_, Level::Low { ceiling }) => Signal::Low(Some(ceiling)),
            (_, Level::Plenty) => Signal::Plenty,
            (_, Level::Unknown) => Signal::Clear,
        };
        let mut authorities = self.lock();
        let Some(entry) = find(&mut authorities, authority) else {
            return;
        };
        let partition = match reading {
            Some(reading) if *reading.partition != *ticket.partition => {
                let named: Arc<str> = Arc::from(reading.partition);
                match entry.methods.iter_mut().find(|(m, _)| m == method) {
                    Some((_, p)) => *p = named.clone(),
                    None => entry.methods.push((method.clone(), named.clone())),
                }
                named
            }
            _ => ticket.partition.clone(),
        };
        // A sequence number belongs to the limiter that issued it.
        let seq = (partition == ticket.partition).then_some(ticket.seq);
        entry
            .limiter(&partition, &ticket.partition)
            .observe(now, seq, signal);
    }

    /// The fill rate `method` to `authority` is paced at, `None` while not paced (tests).
    #[cfg(test)]
    pub(crate) fn rate(&self, authority: &str, method: &Method) -> Option<f64> {
        let mut authorities = self.lock();
        let entry = find(&mut authorities, authority)?;
        let partition = entry.partition(method);
        let limiter = entry.limiter(&partition, &partition);
        limiter.is_active().then(|| limiter.fill_rate())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, Authority)>> {
        // Limiters hold plain numbers; a panic elsewhere cannot leave one inconsistent.
        self.authorities
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const HOST: &str = "http://api.example:80";

    fn answer(state: &str, policy: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("ratelimit", HeaderValue::from_str(state).unwrap());
        h.insert("ratelimit-policy", HeaderValue::from_str(policy).unwrap());
        h
    }

    /// `count` requests of `method`, 10 ms apart, each answered with `headers`.
    fn send(pacing: &Pacing, method: &Method, start: Instant, count: u64, headers: &HeaderMap) {
        for i in 0..count {
            let now = start + Duration::from_millis(10 * i);
            let (ticket, _) = pacing.reserve(HOST, method, now);
            pacing.observe(HOST, method, ticket, StatusCode::OK, headers, now);
        }
    }

    #[test]
    fn partitions_named_by_the_server_are_paced_apart() {
        let pacing = Pacing::default();
        let start = Instant::now();
        let reads_ok = answer("\"reads\";r=90;t=1", "\"reads\";q=100;w=1");
        let writes_low = answer("\"writes\";r=2;t=1", "\"writes\";q=100;w=1");
        send(&pacing, &Method::GET, start, 20, &reads_ok);
        send(&pacing, &Method::PUT, start, 20, &writes_low);
        assert_eq!(pacing.rate(HOST, &Method::GET), None);
        let put = pacing.rate(HOST, &Method::PUT).expect("writes are paced");
        assert!(put < 100.0, "{put}");
        // DELETE has not been counted anywhere yet: the unnamed partition, not paced.
        assert_eq!(pacing.rate(HOST, &Method::DELETE), None);
    }

    #[test]
    fn a_first_429_in_a_new_partition_starts_from_the_measured_rate() {
        let pacing = Pacing::default();
        let start = Instant::now();
        send(&pacing, &Method::GET, start, 100, &HeaderMap::new());
        let now = start + Duration::from_secs(1);
        let (ticket, _) = pacing.reserve(HOST, &Method::GET, now);
        let refused = answer("\"reads\";r=0;t=1", "\"reads\";q=100;w=1");
        let status = StatusCode::TOO_MANY_REQUESTS;
        pacing.observe(HOST, &Method::GET, ticket, status, &refused, now);
        // 100/s measured, 70/s kept (not the 0.5/s floor a fresh limiter would start at).
        let rate = pacing.rate(HOST, &Method::GET).expect("paced");
        assert!((60.0..80.0).contains(&rate), "{rate}");
    }

    #[test]
    fn authorities_are_paced_apart() {
        let pacing = Pacing::default();
        let start = Instant::now();
        send(&pacing, &Method::GET, start, 10, &HeaderMap::new());
        let now = start + Duration::from_secs(1);
        let (ticket, _) = pacing.reserve(HOST, &Method::GET, now);
        let status = StatusCode::TOO_MANY_REQUESTS;
        pacing.observe(HOST, &Method::GET, ticket, status, &HeaderMap::new(), now);
        assert!(pacing.rate(HOST, &Method::GET).is_some());
        assert_eq!(pacing.rate("https://other:443", &Method::GET), None);
    }
}

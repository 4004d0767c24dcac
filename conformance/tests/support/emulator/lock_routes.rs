//! `/items/{id}/lock` on the emulated server: take (POST, maybe waiting), renew
//! (PUT), release or break (DELETE) and show (GET), with the faults that break
//! each locking rule.

use std::time::{Duration, Instant};

use serde_json::Value;
use wiremock::{Request, ResponseTemplate};

use super::locks::{
    grant_body, seconds_until, token_of, unix_ms, Lease, MAX_LOCK_TTL_MS, MAX_LOCK_WAITERS,
    RACE_WINDOW,
};
use super::{Doc, Emulator, State};
use crate::support::faults::Fault;

/// `QueueByDeadline`: how long before its wait runs out a waiter is served.
const DEADLINE_SLACK: Duration = Duration::from_millis(100);
const DEFAULT_TTL_MS: u64 = 30_000;

/// What a lock request asks for.
struct Asked {
    owner: Option<String>,
    ttl_ms: u64,
    wait_ms: u64,
}

impl Emulator {
    pub(super) fn lock_route(&self, st: &mut State, req: &Request, id: &str) -> ResponseTemplate {
        match req.method.as_str() {
            "POST" => self.acquire(st, req, id),
            "PUT" => self.renew(st, req, id),
            "DELETE" => self.release(st, req, id),
            "GET" => self.show(st, id),
            _ => self.problem(
                405,
                "method-not-allowed",
                "use POST, PUT, DELETE or GET",
                None,
            ),
        }
    }

    fn options(&self, req: &Request) -> Result<Option<Value>, ResponseTemplate> {
        if req.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        match self.json_body(req, "application/json")? {
            Value::Object(map) => Ok(Some(Value::Object(map))),
            _ => Err(self.problem(400, "malformed-body", "send a JSON object", None)),
        }
    }

    fn asked(&self, req: &Request) -> Result<Asked, ResponseTemplate> {
        let body = self.options(req)?.unwrap_or(Value::Null);
        let number = |name: &str| body.get(name).and_then(Value::as_u64);
        let asked = number("ttl_ms").unwrap_or(DEFAULT_TTL_MS).max(1);
        Ok(Asked {
            owner: body.get("owner").and_then(Value::as_str).map(str::to_owned),
            ttl_ms: if self.has(Fault::TtlUncapped) {
                asked
            } else {
                asked.min(MAX_LOCK_TTL_MS)
            },
            wait_ms: number("wait_ms").unwrap_or(0).min(MAX_LOCK_TTL_MS),
        })
    }

    fn new_lease(&self, st: &mut State, id: &str, asked: &Asked, start: Instant) -> Lease {
        st.locks.fencing += 1;
        let token = if self.has(Fault::TokensReused) {
            format!("lk-{id}")
        } else {
            format!("lk-{id}-{}", st.locks.fencing)
        };
        let end = start + Duration::from_millis(asked.ttl_ms);
        Lease {
            token,
            owner: asked.owner.clone(),
            start,
            end,
            told_end: end,
            ttl_ms: asked.ttl_ms,
            fencing: st.locks.fencing,
            released: false,
        }
    }

    /// The grant's answer, sent when the lease starts.
    fn granted(&self, status: u16, id: &str, lease: &Lease, now: Instant) -> ResponseTemplate {
        let status = if status == 201 && self.has(Fault::LockGrant200) {
            200
        } else {
            status
        };
        let mut answer = ResponseTemplate::new(status)
            .insert_header("Lock-Token", format!("\"{}\"", lease.token).as_str())
            .insert_header("Cache-Control", "no-store")
            .set_body_raw(
                grant_body(lease).to_string().into_bytes(),
                "application/json",
            );
        if status != 200 {
            answer = answer.insert_header("Location", format!("/items/{id}/lock").as_str());
        }
        match lease.start.checked_duration_since(now) {
            Some(later) if !later.is_zero() => answer.set_delay(later),
            _ => answer,
        }
    }

    fn acquire(&self, st: &mut State, req: &Request, id: &str) -> ResponseTemplate {
        let now = Instant::now();
        let asked = match self.asked(req) {
            Ok(asked) => asked,
            Err(refused) => return refused,
        };
        if !st.docs.contains_key(id) {
            if !self.has(Fault::LockMissingCreates) {
                return self.problem(404, "not-found", &format!("no item {id} to lock"), None);
            }
            let version = Self::next_version(st);
            let doc = Doc {
                body: Value::Object(Default::default()),
                version,
                older: vec![],
                reads_since_write: 0,
            };
            st.docs.insert(id.to_owned(), doc);
        }
        if let Some(leases) = st.locks.leases.get_mut(id) {
            leases.retain(|l| !l.released && l.end + Duration::from_secs(60) > now);
        }
        let Some(busy) = self.busy_for_locker(st, id, now) else {
            let start = if self.has(Fault::RacyGrant) {
                now + RACE_WINDOW
            } else {
                now
            };
            let lease = self.new_lease(st, id, &asked, start);
            st.locks
                .leases
                .entry(id.to_owned())
                .or_default()
                .push(lease.clone());
            return self.granted(201, id, &lease, now);
        };
        if asked.wait_ms == 0 {
            let retry_after = !self.has(Fault::BusyWithoutRetryAfter);
            return self.locked(
                &busy,
                "locked by someone else; retry later or send wait_ms",
                retry_after,
            );
        }
        self.enqueue(st, id, &asked, now, &busy)
    }

    /// A request that waits: its answer (a grant when the leases before it end, or
    /// 423 when its wait runs out first) is decided now and sent later.
    fn enqueue(
        &self,
        st: &mut State,
        id: &str,
        asked: &Asked,
        now: Instant,
        busy: &Lease,
    ) -> ResponseTemplate {
        let waiting = st.locks.waiting.entry(id.to_owned()).or_default();
        waiting.retain(|&at| at > now);
        if waiting.len() >= MAX_LOCK_WAITERS {
            if self.has(Fault::QueueFullAnswers423) {
                return self.locked(busy, "locked, and the queue is full", true);
            }
            return self
                .problem(
                    503,
                    "lock-queue-full",
                    "too many requests wait for this lock",
                    None,
                )
                .insert_header("Retry-After", seconds_until(busy.end).to_string().as_str());
        }
        let deadline = now + Duration::from_millis(asked.wait_ms);
        let ttl = Duration::from_millis(asked.ttl_ms);
        let leases = st
            .locks
            .leases
            .get(id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let live = leases.iter().filter(|l| !l.released);
        let after_all = live.clone().map(|l| l.end).max().unwrap_or(now).max(now);
        let after_holder = live
            .clone()
            .filter(|l| l.start <= now)
            .map(|l| l.end)
            .max()
            .unwrap_or(now);
        // The unfair server serves each waiter as late as its wait allows, so one
        // that arrived later with a shorter wait goes first.
        let late = deadline.checked_sub(DEADLINE_SLACK).filter(|&at| {
            at >= after_holder && live.clone().all(|l| l.end <= at || l.start >= at + ttl)
        });
        let start = match late {
            Some(at) if self.has(Fault::QueueByDeadline) => at,
            _ => after_all,
        };
        if start > deadline {
            st.locks
                .waiting
                .entry(id.to_owned())
                .or_default()
                .push(deadline);
            return self
                .locked(busy, "locked; the wait ran out first", true)
                .set_delay(deadline - now);
        }
        let lease = self.new_lease(st, id, asked, start);
        st.locks
            .waiting
            .entry(id.to_owned())
            .or_default()
            .push(start);
        st.locks
            .leases
            .entry(id.to_owned())
            .or_default()
            .push(lease.clone());
        self.granted(201, id, &lease, now)
    }

    fn renew(&self, st: &mut State, req: &Request, id: &str) -> ResponseTemplate {
        let now = Instant::now();
        let Some(token) = token_of(req) else {
            return self.problem(400, "invalid-header", "renewing needs Lock-Token", None);
        };
        let body = match self.options(req) {
            Ok(body) => body.unwrap_or(Value::Null),
            Err(refused) => return refused,
        };
        // A renewal cannot move past a lease already promised to a waiter.
        let next = st
            .locks
            .leases
            .get(id)
            .and_then(|ls| ls.iter().filter(|l| l.promised(now)).map(|l| l.start).min());
        let extends = !self.has(Fault::RenewDoesNotExtend);
        let Some(lease) = Self::held_with(st, id, &token, now) else {
            return self.token_invalid();
        };
        let ttl_ms = body
            .get("ttl_ms")
            .and_then(Value::as_u64)
            .unwrap_or(lease.ttl_ms)
            .clamp(1, MAX_LOCK_TTL_MS);
        let end = next.map_or(now + Duration::from_millis(ttl_ms), |n| {
            n.min(now + Duration::from_millis(ttl_ms))
        });
        lease.told_end = end;
        lease.ttl_ms = ttl_ms;
        if extends {
            lease.end = end;
        }
        let lease = lease.clone();
        self.granted(200, id, &lease, now)
    }

    fn release(&self, st: &mut State, req: &Request, id: &str) -> ResponseTemplate {
        let now = Instant::now();
        let breaks = req
            .url
            .query_pairs()
            .any(|(k, v)| k == "break" && (v == "true" || v == "1"));
        let current = st
            .locks
            .leases
            .get_mut(id)
            .into_iter()
            .flatten()
            .filter(|l| l.active(now));
        if breaks {
            current.for_each(|l| l.released = true);
            return ResponseTemplate::new(204);
        }
        let Some(token) = token_of(req) else {
            return self.problem(400, "invalid-header", "releasing needs Lock-Token", None);
        };
        let any_token = self.has(Fault::ReleaseWithAnyToken);
        match current.into_iter().find(|l| any_token || l.token == token) {
            Some(lease) => {
                lease.released = true;
                ResponseTemplate::new(204)
            }
            None => self.token_invalid(),
        }
    }

    fn show(&self, st: &State, id: &str) -> ResponseTemplate {
        let now = Instant::now();
        let current = st
            .locks
            .leases
            .get(id)
            .into_iter()
            .flatten()
            .find(|l| l.active(now));
        match current {
            Some(lease) => {
                let mut body = grant_body(lease);
                body.as_object_mut().unwrap().remove("token");
                body["expires_at_ms"] = unix_ms(lease.told_end).into();
                ResponseTemplate::new(200)
                    .set_body_raw(body.to_string().into_bytes(), "application/json")
            }
            None => self.problem(404, "not-found", "nobody holds this lock", None),
        }
    }
}

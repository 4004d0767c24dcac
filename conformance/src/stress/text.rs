//! The human summary of a stress run.

use std::fmt::Write;

use super::summary::StressSummary;

impl StressSummary {
    /// A short human summary; when updates failed, what ended them and the first
    /// few failures (status, request, body excerpt), then what that means.
    pub fn to_text(&self) -> String {
        let mut verdict = if self.lost_updates == 0 {
            "no update lost".to_owned()
        } else {
            format!("{} acknowledged update(s) LOST", self.lost_updates)
        };
        if self.extra_updates > 0 {
            let _ = write!(
                verdict,
                "; {} EXTRA increment(s) beyond the acknowledged and unknown updates",
                self.extra_updates
            );
        }
        let mut s = format!(
            "stress: {clients} clients × {updates} updates, strategy {strategy}{one}{slots}\n\
             counter       {counter}\n",
            clients = self.clients,
            updates = self.updates_per_client,
            strategy = self.strategy,
            one = if self.shared_client {
                ", one SDK client shared by all"
            } else {
                ""
            },
            slots = if self.slots == self.clients {
                String::new()
            } else {
                format!(", counter of {} slots", self.slots)
            },
            counter = self.counter_url,
        );
        if !self.headers.is_empty() {
            let _ = writeln!(s, "headers       {}", self.headers.join(", "));
        }
        let _ = write!(
            s,
            "final value   {final_value} (acknowledged {ack} of {req}; {failed} failed, {ns} not started)\n\
             {unknown}lost updates  {lost}: {verdict}\n\
             goodput       {goodput:.1} updates/s over {elapsed:.2} s\n\
             attempts      {attempts:.2} writes per acknowledged update\n\
             refusals      409: {c409}, 412: {c412}, 429: {c429}\n\
             latency       p50 {p50:.2} ms, p99 {p99:.2} ms\n",
            final_value = self.final_value,
            ack = self.acknowledged,
            req = self.requested,
            failed = self.failed,
            ns = self.not_started,
            lost = self.lost_updates,
            unknown = if self.unknown_outcomes > 0 {
                format!(
                    "unknown       {n} failed update(s) sent a write that got no answer; {applied} of them applied\n",
                    n = self.unknown_outcomes,
                    applied = self.unknown_applied,
                )
            } else {
                String::new()
            },
            goodput = self.goodput_per_second,
            elapsed = self.elapsed_seconds,
            attempts = self.attempts_per_update,
            c409 = self.status_409,
            c412 = self.status_412,
            c429 = self.status_429,
            p50 = self.p50_ms,
            p99 = self.p99_ms,
        );
        if let Some(w) = &self.steady {
            let _ = writeln!(
                s,
                "all running   {goodput:.1} updates/s for {secs:.2} s (until the first client stopped), p50 {p50:.2} ms, p99 {p99:.2} ms, {got} of {n} clients served",
                goodput = w.goodput_per_second,
                secs = w.seconds,
                p50 = w.p50_ms,
                p99 = w.p99_ms,
                got = w.clients_acknowledged,
                n = self.clients,
            );
        }
        if self.base_urls.len() > 1 {
            let width = self.base_urls.iter().map(|b| b.base_url.len()).max();
            let width = width.unwrap_or(0);
            for (n, b) in self.base_urls.iter().enumerate() {
                let label = if n == 0 { "base URLs" } else { "" };
                let _ = writeln!(
                    s,
                    "{label:<13} {url:<width$}  {clients} client{s}, {updates} updates: {ack} acknowledged, {failed} failed",
                    s = if b.clients == 1 { "" } else { "s" },
                    url = b.base_url,
                    clients = b.clients,
                    updates = b.updates,
                    ack = b.acknowledged,
                    failed = b.failed,
                );
            }
        }
        if self.failed > 0 {
            let by: Vec<String> = self
                .failures_by_status
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect();
            let _ = writeln!(s, "failed with   {}", by.join(", "));
            let _ = writeln!(s, "first failures:");
            for f in &self.first_failures {
                let status = f
                    .status
                    .map_or_else(|| "error".to_owned(), |c| c.to_string());
                let request = f
                    .request
                    .as_deref()
                    .map_or_else(String::new, |r| format!("{r} → "));
                let _ = writeln!(
                    s,
                    "  client {c}, update {u} via {base}: {request}{status}: {reason}",
                    c = f.client,
                    u = f.update,
                    base = f.base_url,
                    reason = f.reason,
                );
            }
        }
        for note in &self.notes {
            let _ = writeln!(s, "note: {note}");
        }
        s
    }
}

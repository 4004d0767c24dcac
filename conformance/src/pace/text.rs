//! The text rendering of a `pace` summary.

use std::fmt::Write;

use super::PaceSummary;

impl PaceSummary {
    /// A table, one line per run, and what the columns mean.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "server limit: {} requests/s, burst {}\n",
            self.rate, self.burst
        );
        let _ = writeln!(
            out,
            "clients  pacing    successes/s  of capacity  429 share  requests  paced  failed calls"
        );
        for run in &self.runs {
            let _ = writeln!(
                out,
                "{:>7}  {:<8}  {:>11.1}  {:>10.1} %  {:>7.1} %  {:>8}  {:>5}  {:>12}",
                run.clients,
                if run.adaptive { "adaptive" } else { "off" },
                run.successes_per_second,
                run.share_of_capacity * 100.0,
                run.throttled_share * 100.0,
                run.requests,
                run.paced_requests,
                run.failed_calls,
            );
        }
        out.push_str(
            "\nof capacity: successful requests / (burst + rate × seconds); 429 share: requests answered 429 / requests sent.\n",
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{PaceRun, PaceSummary};

    #[test]
    fn text_report() {
        let run = |clients, adaptive, succeeded: u64, throttled: u64, paced| {
            let requests = succeeded + throttled;
            PaceRun {
                clients,
                adaptive,
                seconds: 5.0,
                requests,
                succeeded,
                throttled,
                failed_calls: throttled / 3,
                successes_per_second: succeeded as f64 / 5.0,
                share_of_capacity: succeeded as f64 / 1020.0,
                throttled_share: throttled as f64 / requests as f64,
                paced_requests: paced,
                pacing_wait_seconds: 1.5,
            }
        };
        let summary = PaceSummary {
            rate: 200,
            burst: 20,
            runs: vec![run(4, false, 120, 24, 0), run(4, true, 985, 6, 950)],
        };
        insta::assert_snapshot!(summary.to_text());
    }
}

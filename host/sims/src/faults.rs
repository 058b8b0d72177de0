//! Faults every simulated system can be told to show at its edge, before
//! its own rules see the request: answer a status a number of times, always
//! answer one, hang, drop the connection, ask the caller to come back later
//! (429 with `Retry-After`), or answer slowly. The demo and the end-to-end
//! tests use them to prove retries, timeouts, dead letters and breakers
//! against a real HTTP peer.

use std::time::Duration;

/// How a system answers at its edge. The counters of `FailTimes` and
/// `RetryAfter` start at zero when the behaviour is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// No fault: the system's own rules answer.
    Ok,
    /// `status` to the first `times` requests, then the system answers.
    FailTimes { times: usize, status: u16 },
    /// This status to everything.
    Always(u16),
    /// Reads the request and never answers.
    Hang,
    /// 429 with `Retry-After: secs` to the first `times` requests, then the
    /// system answers.
    RetryAfter { times: usize, secs: u64 },
    /// Reads the request, then closes the connection without answering.
    Drop,
}

/// What the edge does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Hand it to the system.
    Pass,
    /// Answer this status (and `Retry-After`) without the system seeing it.
    Fail(u16, Option<u64>),
    Hang,
    Drop,
}

/// The current behaviour, how many requests it has seen, and the delay
/// before every answer.
#[derive(Debug)]
pub(crate) struct Faults {
    behaviour: Behaviour,
    seen: usize,
    pub delay: Duration,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults::new(Behaviour::Ok)
    }
}

impl Faults {
    pub fn new(behaviour: Behaviour) -> Faults {
        Faults {
            behaviour,
            seen: 0,
            delay: Duration::ZERO,
        }
    }

    /// Changes the behaviour; its counter starts again.
    pub fn set(&mut self, behaviour: Behaviour) {
        self.behaviour = behaviour;
        self.seen = 0;
    }

    /// Decides one request (and counts it).
    pub fn decide(&mut self) -> Verdict {
        let seen = self.seen;
        self.seen += 1;
        match self.behaviour {
            Behaviour::Ok => Verdict::Pass,
            Behaviour::FailTimes { times, status } if seen < times => Verdict::Fail(status, None),
            Behaviour::FailTimes { .. } => Verdict::Pass,
            Behaviour::Always(status) => Verdict::Fail(status, None),
            Behaviour::Hang => Verdict::Hang,
            Behaviour::RetryAfter { times, secs } if seen < times => Verdict::Fail(429, Some(secs)),
            Behaviour::RetryAfter { .. } => Verdict::Pass,
            Behaviour::Drop => Verdict::Drop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_start_again_when_the_behaviour_changes() {
        let mut f = Faults::new(Behaviour::FailTimes {
            times: 2,
            status: 503,
        });
        let first: Vec<_> = (0..3).map(|_| f.decide()).collect();
        assert_eq!(
            first,
            [
                Verdict::Fail(503, None),
                Verdict::Fail(503, None),
                Verdict::Pass
            ]
        );
        f.set(Behaviour::RetryAfter { times: 1, secs: 2 });
        assert_eq!(f.decide(), Verdict::Fail(429, Some(2)));
        assert_eq!(f.decide(), Verdict::Pass);
        f.set(Behaviour::Always(400));
        assert_eq!(f.decide(), Verdict::Fail(400, None));
        f.set(Behaviour::Hang);
        assert_eq!(f.decide(), Verdict::Hang);
        f.set(Behaviour::Drop);
        assert_eq!(f.decide(), Verdict::Drop);
    }
}

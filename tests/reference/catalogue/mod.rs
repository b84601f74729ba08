//! Every fault of the catalogue changes the server's behaviour as its description says: one
//! short scenario per fault runs on the correct server and on the faulty one, and both
//! observations must be the ones the table expects, which differ. One table per axis.

mod answers;
mod authorization;
mod login;
mod state;
mod totp;
mod validation;

use crate::common::world::World;
use futures::future::LocalBoxFuture;
use mfa_harness::reference::faults::Fault;
use serde_json::Value;

/// A scenario: what it observes, as JSON.
pub type Probe = for<'a> fn(&'a mut World) -> LocalBoxFuture<'a, Value>;

/// One fault, its scenario, and what the correct and the faulty server show.
pub struct Entry {
    pub fault: Fault,
    pub probe: Probe,
    pub correct: Value,
    pub faulty: Value,
}

/// `case!(Fault, |w| { …observation… }, correct, faulty)`: an [`Entry`]; the observation and
/// both expectations are anything serializable (tuples become arrays).
macro_rules! case {
    ($fault:ident, |$w:ident| $body:block, $correct:expr, $faulty:expr $(,)?) => {
        $crate::catalogue::Entry {
            fault: mfa_harness::reference::faults::Fault::$fault,
            probe: |$w| Box::pin(async move { serde_json::to_value($body).unwrap() }),
            correct: serde_json::to_value($correct).unwrap(),
            faulty: serde_json::to_value($faulty).unwrap(),
        }
    };
}
pub(crate) use case;

/// Runs every entry on a correct and on a faulty world; all mismatches are reported at once.
pub async fn run(table: &[Entry]) {
    let mut wrong = Vec::new();
    for entry in table {
        let mut correct_world = World::new(&[]).await;
        let correct = (entry.probe)(&mut correct_world).await;
        let mut faulty_world = World::new(&[entry.fault]).await;
        let faulty = (entry.probe)(&mut faulty_world).await;
        if correct == faulty {
            wrong.push(format!("{}: no behavioural difference, both {correct}", entry.fault));
        }
        if (&correct, &faulty) != (&entry.correct, &entry.faulty) {
            wrong.push(format!(
                "{}: expected correct {} / faulty {}, observed {correct} / {faulty}",
                entry.fault, entry.correct, entry.faulty
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every fault some table of the catalogue covers.
pub fn covered() -> Vec<Fault> {
    [authorization::table(), state::table(), validation::table(), totp::table(), answers::table(), login::table()]
        .into_iter()
        .flatten()
        .map(|entry| entry.fault)
        .collect()
}

#[test]
fn no_fault_is_in_two_tables() {
    let mut faults = covered();
    let count = faults.len();
    faults.sort_by_key(|f| f.name());
    faults.dedup();
    assert_eq!(faults.len(), count);
}

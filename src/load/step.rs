//! The steps a load flow is made of: each a documented call with the status it answers when it
//! honours the contract.

use crate::api::OpKind;
use serde::Deserialize;

/// One step of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// The user creates its device (201).
    Create,
    /// The user binds it with the codes of steps t−1 and t (204).
    Bind,
    /// The user queries its device (200, the serial create returned).
    Query,
    /// The administrator unbinds it; its code is not verified (204).
    Unbind,
    /// The administrator deletes it (204).
    Delete,
    /// The administrator lists every device (200).
    List,
}

impl Step {
    /// Every step, in declaration order (so `step as usize` indexes it).
    pub const ALL: [Step; 6] = [Step::Create, Step::Bind, Step::Query, Step::Unbind, Step::Delete, Step::List];

    pub fn name(self) -> &'static str {
        match self {
            Step::Create => "create",
            Step::Bind => "bind",
            Step::Query => "query",
            Step::Unbind => "unbind",
            Step::Delete => "delete",
            Step::List => "list",
        }
    }

    /// The documented call the step makes.
    pub fn op_kind(self) -> OpKind {
        match self {
            Step::Create => OpKind::Create,
            Step::Bind => OpKind::Bind,
            Step::Query => OpKind::Query,
            Step::Unbind => OpKind::Unbind,
            Step::Delete => OpKind::Delete,
            Step::List => OpKind::List,
        }
    }

    /// The status the step answers when it honours the contract.
    pub fn expected_status(self) -> u16 {
        match self {
            Step::Create => 201,
            Step::Bind | Step::Unbind | Step::Delete => 204,
            Step::Query | Step::List => 200,
        }
    }

    /// Whether the step needs the device a `create` before it made.
    pub fn needs_device(self) -> bool {
        matches!(self, Step::Bind | Step::Query | Step::Unbind | Step::Delete)
    }
}

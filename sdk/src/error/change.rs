//! The error a change closure returns.

use std::{error::Error as StdError, fmt};

use crate::rt::BoxError;

/// An error returned by a change closure; converts from any `std::error::Error` with `?`.
///
/// ```
/// use ifmatch::ChangeError;
///
/// fn bump(doc: &mut serde_json::Value) -> Result<(), ChangeError> {
///     let n = doc["n"].as_i64().ok_or_else(|| ChangeError::msg("`n` must be a number"))?;
///     doc["n"] = (n + 1).into();
///     Ok(())
/// }
/// let mut doc = serde_json::json!({"n": 1});
/// bump(&mut doc)?;
/// assert_eq!(doc["n"], 2);
/// # Ok::<(), ChangeError>(())
/// ```
pub struct ChangeError(BoxError);

impl ChangeError {
    /// An error with a plain message.
    pub fn msg(message: impl Into<String>) -> Self {
        Self(message.into().into())
    }

    pub(crate) fn into_inner(self) -> BoxError {
        self.0
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for ChangeError {
    fn from(err: E) -> Self {
        Self(Box::new(err))
    }
}

impl fmt::Debug for ChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

//! How an error reads (`Display`) and what caused it (`source`).

use std::{error::Error as StdError, fmt};

use super::Error;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())?;
        match self.hint() {
            Some(hint) => write!(f, "; {hint}"),
            None => Ok(()),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Transport { source, .. } | Self::Change { source, .. } => Some(source.as_ref()),
            Self::Decode { source, .. } | Self::Encode { source } => Some(source),
            Self::Batch { error, .. } => error.source(),
            _ => None,
        }
    }
}

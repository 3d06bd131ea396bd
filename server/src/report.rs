//! Errors as the log shows them: the error and every cause under it, on one line. Each
//! layer keeps its cause as `#[source]`; the edge that logs an error logs it once, whole.

use std::error::Error;
use std::fmt;

/// `err: cause: cause of the cause…`, for a log field.
pub struct Chain<'a>(&'a (dyn Error + 'static));

/// The error with its causes.
pub fn chain<'a>(err: &'a (dyn Error + 'static)) -> Chain<'a> {
    Chain(err)
}

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(err) = cause {
            write!(f, ": {err}")?;
            cause = err.source();
        }
        Ok(())
    }
}

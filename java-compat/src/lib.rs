//! The Java behaviours that show through in what Kafka's tools print, for the tools that mirror
//! them: the iteration order of `HashMap` / `HashSet` (Kafka's tools print their results in it;
//! `order`), `Double.toString` and `Float.toString` (`text`), and the way a tool's `mainNoExit`
//! reports an exception (its message, then the stack trace's lines naming what was thrown;
//! `exception`). No I/O, no dependencies.

pub mod exception;
pub mod order;
pub mod text;

pub use exception::JavaException;

//! The `fetch` part.

//! Named tasks: what a worker process can run.
//!
//! Processes cannot share closures, so a task is a plain function with a name, declared once
//! as a `static` [`TaskFn`] that both sides use: the parent submits it by name with typed
//! arguments, the worker finds it by name in its [`Registry`] and calls it. Python's
//! `ProcessPoolExecutor` does the same when it pickles a function: it sends its qualified name.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use crate::wire;

/// A function the pool can run in a worker: `fn(A) -> R` under a name unique in the binary.
/// `A` and `R` travel as postcard bytes, so they need serde (and no `deserialize_any`:
/// no `serde_json::Value`, no untagged enums).
///
/// ```
/// use worker_pool::TaskFn;
/// fn square(x: u64) -> u64 { x * x }
/// pub static SQUARE: TaskFn<u64, u64> = TaskFn::new("square", square);
/// ```
pub struct TaskFn<A, R> {
    name: &'static str,
    f: fn(A) -> R,
    _types: PhantomData<fn(A) -> R>,
}

impl<A, R> TaskFn<A, R> {
    pub const fn new(name: &'static str, f: fn(A) -> R) -> TaskFn<A, R> {
        TaskFn {
            name,
            f,
            _types: PhantomData,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Calls the function here, in this process (the sequential baseline does).
    pub fn call(&self, args: A) -> R {
        (self.f)(args)
    }
}

impl<A, R> fmt::Debug for TaskFn<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskFn({:?})", self.name)
    }
}

/// Decodes the arguments, runs the task, encodes the result; errors are one line.
type Erased = Box<dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync>;

/// The tasks a binary's workers can run. Build the same registry in every binary that
/// starts a pool, and hand it to [`serve_if_worker`](crate::serve_if_worker) first thing in
/// `main`.
#[derive(Default)]
pub struct Registry {
    tasks: HashMap<&'static str, Erased>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds `task`. Names are unique: registering a second task under a name already taken
    /// replaces the first (and is a bug, caught by a debug assertion).
    pub fn register<A, R>(mut self, task: &'static TaskFn<A, R>) -> Registry
    where
        A: DeserializeOwned + 'static,
        R: Serialize + 'static,
    {
        let f = task.f;
        let name = task.name;
        let erased: Erased = Box::new(move |bytes: &[u8]| {
            let args: A = postcard::from_bytes(bytes)
                .map_err(|e| format!("cannot decode the arguments of task \"{name}\": {e}"))?;
            let out = f(args);
            wire::to_bytes(&out)
                .map_err(|e| format!("cannot encode the result of task \"{name}\": {e}"))
        });
        let previous = self.tasks.insert(name, erased);
        debug_assert!(previous.is_none(), "two tasks are named {name:?}");
        self
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.tasks.keys().copied().collect();
        names.sort_unstable();
        names
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Erased> {
        self.tasks.get(name)
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("tasks", &self.names())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(p: (u32, u32)) -> u64 {
        p.0 as u64 + p.1 as u64
    }
    static ADD: TaskFn<(u32, u32), u64> = TaskFn::new("add", add);

    #[test]
    fn a_registered_task_runs_on_postcard_bytes() {
        let r = Registry::new().register(&ADD);
        assert_eq!(r.names(), ["add"]);
        let f = r.get("add").unwrap();
        let out = f(&wire::to_bytes(&(2u32, 40u32)).unwrap()).unwrap();
        assert_eq!(postcard::from_bytes::<u64>(&out).unwrap(), 42);
        let err = f(&[1]).unwrap_err();
        assert!(
            err.contains("cannot decode the arguments of task \"add\""),
            "{err}"
        );
        assert_eq!(ADD.call((1, 2)), 3);
        assert!(r.get("nope").is_none());
    }
}

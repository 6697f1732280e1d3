//! Each Action's QuickJS runtime allocates through a [`Limited`]
//! allocator that enforces the memory limit itself, so the engine *knows*
//! when an execution ran out of memory instead of guessing it from an error
//! message (which an Action can write: `throw new Error("out of memory")`),
//! and knows which Action holds the memory (each Action has its own
//! runtime, so one Action's module-scope data never makes another fail).
//!
//! Memory comes from the C library's `malloc`, as with QuickJS's own
//! allocator: routing QuickJS through the binary's global allocator
//! (mimalloc) was measured slower per login.

#![allow(unsafe_code)]

use std::cell::Cell;
use std::rc::Rc;

use rquickjs::allocator::Allocator;

/// What one runtime may use and has used.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    used: Cell<usize>,
    /// An allocation was refused since the last [`Budget::take_refused`].
    refused: Cell<bool>,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Rc<Self> {
        Rc::new(Self {
            limit,
            used: Cell::new(0),
            refused: Cell::new(false),
        })
    }

    /// Bytes in use now.
    #[cfg(test)]
    pub fn used(&self) -> usize {
        self.used.get()
    }

    /// Whether an allocation was refused since the last call, and resets it.
    pub fn take_refused(&self) -> bool {
        self.refused.replace(false)
    }

    fn admit(&self, more: usize) -> bool {
        let ok = self
            .used
            .get()
            .checked_add(more)
            .is_some_and(|total| total <= self.limit);
        if !ok {
            self.refused.set(true);
        }
        ok
    }

    fn add(&self, n: usize) {
        self.used.set(self.used.get().saturating_add(n));
    }

    fn sub(&self, n: usize) {
        self.used.set(self.used.get().saturating_sub(n));
    }
}

/// The allocator of one Action runtime.
pub struct Limited(Rc<Budget>);

impl Limited {
    /// Allocates within `budget`.
    pub fn new(budget: Rc<Budget>) -> Self {
        Self(budget)
    }
}

fn usable(ptr: *mut u8) -> usize {
    // SAFETY: only called with non-null pointers that `malloc`, `calloc` or
    // `realloc` of the C library returned and that were not freed yet.
    unsafe { libc::malloc_usable_size(ptr.cast()) }
}

// SAFETY: every pointer handed out comes from the C library's allocator,
// which aligns to at least 16 bytes (more than `usize`) and returns null or
// a region of at least the requested size; `usable_size` is that
// allocator's own answer for its pointers.
unsafe impl Allocator for Limited {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if !self.0.admit(size) {
            return std::ptr::null_mut();
        }
        // SAFETY: plain C allocation; a null result is handled.
        let ptr = unsafe { libc::malloc(size) }.cast::<u8>();
        if !ptr.is_null() {
            self.0.add(usable(ptr));
        }
        ptr
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        let Some(total) = count.checked_mul(size) else {
            return std::ptr::null_mut();
        };
        if !self.0.admit(total) {
            return std::ptr::null_mut();
        }
        // SAFETY: plain C allocation; a null result is handled.
        let ptr = unsafe { libc::calloc(count, size) }.cast::<u8>();
        if !ptr.is_null() {
            self.0.add(usable(ptr));
        }
        ptr
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        if ptr.is_null() {
            return;
        }
        self.0.sub(usable(ptr));
        // SAFETY: the caller hands back a pointer this allocator returned.
        unsafe { libc::free(ptr.cast()) };
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        if ptr.is_null() {
            return self.alloc(new_size);
        }
        let old = usable(ptr);
        if new_size > old && !self.0.admit(new_size - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller hands over a live pointer this allocator
        // returned; on failure it stays valid and is still counted.
        let new = unsafe { libc::realloc(ptr.cast(), new_size) }.cast::<u8>();
        if !new.is_null() {
            self.0.sub(old);
            self.0.add(usable(new));
        }
        new
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        usable(ptr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_past_the_limit_are_refused_and_remembered() {
        let budget = Budget::new(1024);
        let mut a = Limited::new(budget.clone());
        let p = a.alloc(512);
        assert!(!p.is_null());
        assert!(budget.used() >= 512);
        assert!(!budget.take_refused());
        assert!(a.alloc(4096).is_null());
        assert!(budget.take_refused());
        assert!(!budget.take_refused(), "reset by the first look");
        // SAFETY: `p` came from this allocator and is freed once.
        unsafe { a.dealloc(p) };
        assert_eq!(budget.used(), 0);
    }
}

#[cfg(test)]
mod runtime_tests {
    use super::*;
    use rquickjs::{Context, Runtime};

    #[test]
    fn a_runtime_on_a_budget_stops_a_memory_bomb_and_says_so() {
        let budget = Budget::new(16 << 20);
        let rt = Runtime::new_with_alloc(Limited::new(budget.clone())).unwrap();
        let ctx = Context::full(&rt).unwrap();
        let r: rquickjs::Result<()> = ctx.with(|ctx| {
            ctx.eval(
                "const hoard = []; while (true) hoard.push(new Array(1 << 16).fill(hoard.length));",
            )
        });
        assert!(r.is_err());
        assert!(budget.take_refused());
    }

    #[test]
    fn an_error_that_only_says_out_of_memory_is_not_a_breach() {
        let budget = Budget::new(16 << 20);
        let rt = Runtime::new_with_alloc(Limited::new(budget.clone())).unwrap();
        let ctx = Context::full(&rt).unwrap();
        let r: rquickjs::Result<()> =
            ctx.with(|ctx| ctx.eval("throw new Error('billing API: out of memory')"));
        assert!(r.is_err());
        assert!(!budget.take_refused());
    }
}

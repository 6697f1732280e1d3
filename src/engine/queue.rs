//! The bounded queue between the HTTP workers and the engine threads.
//!
//! A job wakes the engine thread that went idle *last*, not the one that
//! has waited longest (what a FIFO channel such as `async-channel` does).
//! Under load the thread that just finished a login is usually still awake
//! or about to sleep, and its caches hold the Actions' runtimes, so the
//! work stays on as few threads as it needs and the others stay asleep:
//! measured in docs/performance.md ("The queue wakes the last idle thread").
//!
//! And a job wakes an idle thread at all only when more jobs wait than
//! threads are running: a running thread takes the next job itself when
//! its own ends, which under load is sooner and cheaper than waking
//! another (a wake-up is two system calls and a context switch on each
//! side). A running thread whose execution waits (on `fetch`, a timer) or
//! has used a millisecond of CPU, or whose job has run for a millisecond
//! when its next Action starts, steps aside ([`Receiver::step_aside`]), so
//! a job never waits behind a slow one for much more than that.

use std::collections::VecDeque;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::Job;

/// Why a job was not queued; the job comes back.
pub enum SendError {
    /// The queue holds its capacity of waiting jobs.
    Full,
    /// The engine threads are gone.
    Closed,
}

/// An engine thread's place at the queue.
#[derive(Default)]
pub struct Place {
    /// Wakes the thread when a job comes.
    notify: Notify,
    /// Whether the thread counts as running (see [`Receiver::step_aside`]).
    running: AtomicBool,
    /// Whether the thread holds a login (from taking it to its end).
    holding: AtomicBool,
    /// Whether the login's running execution is long (past the pacer's
    /// grace), which the pacer asks [`Receiver::busy_beside`] about.
    long: AtomicBool,
}

/// An engine thread's hold on its [`Place`] ([`Receiver::stand`]).
/// Dropped when the thread ends, however it ends (a panic mid-job
/// included), it steps the place aside: a dead thread must not count as
/// one that will take the next job, or a job queued while every other
/// thread is idle would wake nobody.
pub struct Stand {
    queue: Receiver,
    place: Arc<Place>,
}

impl Deref for Stand {
    type Target = Arc<Place>;
    fn deref(&self) -> &Arc<Place> {
        &self.place
    }
}

impl Drop for Stand {
    fn drop(&mut self) {
        self.queue.job_ended(&self.place, true);
    }
}

struct State {
    jobs: VecDeque<Box<dyn Job>>,
    /// Engine threads waiting for a job, the most recently idle last.
    idle: Vec<Arc<Place>>,
    /// Threads running a job that will come back for the next one soon.
    running: usize,
    /// Threads holding a login, stepped aside or not.
    holding: usize,
    /// Of those, the ones whose execution is long.
    long: usize,
    senders: usize,
    closed: bool,
}

impl State {
    /// The idle thread to wake, if the queued jobs outnumber the threads
    /// that will take them.
    fn thread_to_wake(&mut self) -> Option<Arc<Place>> {
        if self.jobs.len() > self.running {
            self.idle.pop()
        } else {
            None
        }
    }
}

struct Shared {
    state: Mutex<State>,
    capacity: usize,
    /// Logins being handled, at any stage (see [`Sender::enter`]).
    in_flight: AtomicUsize,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing here panics while holding the lock; stay usable if so.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The HTTP workers' end. Cloning adds a sender; when the last one is
/// dropped the queue closes and the engine threads finish what is queued,
/// then stop.
pub struct Sender {
    shared: Arc<Shared>,
}

/// The engine threads' end.
#[derive(Clone)]
pub struct Receiver {
    shared: Arc<Shared>,
}

/// A queue holding at most `capacity` waiting jobs.
pub fn bounded(capacity: usize) -> (Sender, Receiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            jobs: VecDeque::with_capacity(capacity.min(1024)),
            idle: Vec::new(),
            running: 0,
            holding: 0,
            long: 0,
            senders: 1,
            closed: false,
        }),
        capacity: capacity.max(1),
        in_flight: AtomicUsize::new(0),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

impl Sender {
    /// Queues `job` and wakes the most recently idle engine thread if no
    /// running one will take it.
    pub fn try_send(&self, job: Box<dyn Job>) -> Result<(), (SendError, Box<dyn Job>)> {
        let wake = {
            let mut state = self.shared.state();
            if state.closed {
                return Err((SendError::Closed, job));
            }
            if state.jobs.len() >= self.shared.capacity {
                return Err((SendError::Full, job));
            }
            state.jobs.push_back(job);
            state.thread_to_wake()
        };
        if let Some(thread) = wake {
            thread.notify.notify_one();
        }
        Ok(())
    }
}

/// A login being handled: counted from [`Sender::enter`] until dropped.
pub struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Sender {
    /// Counts a login as being handled (parsed, waiting on Redis, queued
    /// or running) until the guard is dropped: a long execution gives up
    /// its core while another login is (see [`Receiver::busy_beside`]).
    pub fn enter(&self) -> InFlight {
        self.shared.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.shared.clone())
    }
}

impl Clone for Sender {
    fn clone(&self) -> Self {
        self.shared.state().senders += 1;
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let idle = {
            let mut state = self.shared.state();
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.closed = true;
            std::mem::take(&mut state.idle)
        };
        for thread in idle {
            thread.notify.notify_one();
        }
    }
}

impl Receiver {
    /// A new engine thread's place at the queue, given up when dropped.
    pub fn stand(&self) -> Stand {
        Stand {
            queue: self.clone(),
            place: Arc::new(Place::default()),
        }
    }

    /// The next job, waiting for one as engine thread `me`; `None` once the
    /// queue is closed and empty.
    pub async fn recv(&self, me: &Arc<Place>) -> Option<Box<dyn Job>> {
        self.job_ended(me, false);
        loop {
            {
                let mut state = self.shared.state();
                if let Some(job) = state.jobs.pop_front() {
                    // Woken by a permit left from earlier, this thread may
                    // still be listed as idle: a sender must not pick it.
                    state.idle.retain(|t| !Arc::ptr_eq(t, me));
                    state.running += 1;
                    state.holding += 1;
                    me.running.store(true, Ordering::Relaxed);
                    me.holding.store(true, Ordering::Relaxed);
                    return Some(job);
                }
                if state.closed {
                    return None;
                }
                if !state.idle.iter().any(|t| Arc::ptr_eq(t, me)) {
                    state.idle.push(me.clone());
                }
            }
            me.notify.notified().await;
        }
    }

    /// Thread `me` will not come back for a job soon (its execution waits
    /// or is long, or its job ended): an idle thread takes what waits.
    pub fn step_aside(&self, me: &Place) {
        if !me.running.swap(false, Ordering::Relaxed) {
            return;
        }
        let wake = {
            let mut state = self.shared.state();
            state.running = state.running.saturating_sub(1);
            state.thread_to_wake()
        };
        if let Some(thread) = wake {
            thread.notify.notify_one();
        }
    }

    /// Thread `me`'s login ended (or the thread did): it steps aside and
    /// holds no login any more. `leaving`: the thread will not come back
    /// for the next job, so an idle one is woken for what waits; one that
    /// stays takes it itself (a wake-up saved per login under load).
    pub fn job_ended(&self, me: &Place, leaving: bool) {
        let running = me.running.swap(false, Ordering::Relaxed);
        let holding = me.holding.swap(false, Ordering::Relaxed);
        let long = me.long.swap(false, Ordering::Relaxed);
        if !(running || holding || long) {
            return;
        }
        // One lock for all three (this runs once per login).
        let wake = {
            let mut state = self.shared.state();
            state.running = state.running.saturating_sub(usize::from(running));
            state.holding = state.holding.saturating_sub(usize::from(holding));
            state.long = state.long.saturating_sub(usize::from(long));
            if running && leaving {
                state.thread_to_wake()
            } else {
                None
            }
        };
        if let Some(thread) = wake {
            thread.notify.notify_one();
        }
    }

    /// Whether, beside thread `me`'s long execution, another login is on
    /// the engines (running, waiting on `fetch`, between its Actions:
    /// stepped aside or not, it will want a core again) and not long
    /// itself, or a login waits for an engine, or more logins are being
    /// handled anywhere (parsed, waiting on Redis: [`Sender::enter`]) than
    /// executions are long (each long one's own login is among them). `me`
    /// counts as long from now until [`Receiver::long_ended`] or the end of
    /// its login.
    pub fn busy_beside(&self, me: &Place) -> bool {
        let mut state = self.shared.state();
        if me.holding.load(Ordering::Relaxed) && !me.long.swap(true, Ordering::Relaxed) {
            state.long += 1;
        }
        state.holding > state.long
            || !state.jobs.is_empty()
            || self.shared.in_flight.load(Ordering::Relaxed) > state.long
    }

    /// Thread `me`'s long execution ended.
    pub fn long_ended(&self, me: &Place) {
        if me.long.swap(false, Ordering::Relaxed) {
            let mut state = self.shared.state();
            state.long = state.long.saturating_sub(1);
        }
    }

    /// Whether the HTTP side is gone (the server is stopping).
    pub fn is_closed(&self) -> bool {
        self.shared.state().closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{ActionReport, Execution, Failure};

    type Log = Arc<Mutex<Vec<usize>>>;

    /// A job that writes its number down when it is finished.
    struct Numbered(usize, Log);

    impl Job for Numbered {
        fn next(&mut self) -> Option<Execution> {
            None
        }
        fn done(&mut self, _: Result<ActionReport, Failure>) {}
        fn abandoned(&self) -> bool {
            false
        }
        fn finish(self: Box<Self>) {
            self.1.lock().expect("log").push(self.0);
        }
    }

    fn jobs() -> (Log, impl Fn(usize) -> Box<dyn Job>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let make = {
            let log = log.clone();
            move |n| Box::new(Numbered(n, log.clone())) as Box<dyn Job>
        };
        (log, make)
    }

    #[tokio::test]
    async fn jobs_come_out_in_order_and_a_full_queue_refuses_more() {
        let (log, job) = jobs();
        let (tx, rx) = bounded(2);
        let me = Arc::new(Place::default());
        assert!(tx.try_send(job(1)).is_ok());
        assert!(tx.try_send(job(2)).is_ok());
        assert!(matches!(tx.try_send(job(3)), Err((SendError::Full, _))));
        rx.recv(&me).await.expect("a job").finish();
        assert!(tx.try_send(job(3)).is_ok(), "room again");
        rx.recv(&me).await.expect("a job").finish();
        rx.recv(&me).await.expect("a job").finish();
        assert_eq!(*log.lock().expect("log"), vec![1, 2, 3]);
    }

    /// A queue with two idle threads, `b` gone idle last.
    fn two_idle_threads() -> (Sender, Receiver, Arc<Place>, Arc<Place>) {
        let (tx, rx) = bounded(8);
        let (a, b) = (Arc::new(Place::default()), Arc::new(Place::default()));
        {
            let mut state = rx.shared.state();
            state.idle.push(a.clone());
            state.idle.push(b.clone());
        }
        (tx, rx, a, b)
    }

    #[tokio::test]
    async fn the_thread_idle_last_is_woken_first() {
        let (_, job) = jobs();
        let (tx, rx, a, _b) = two_idle_threads();
        assert!(tx.try_send(job(1)).is_ok());
        let idle = rx.shared.state().idle.clone();
        assert_eq!(idle.len(), 1);
        assert!(Arc::ptr_eq(&idle[0], &a), "b went idle last and was woken");
    }

    #[tokio::test]
    async fn a_thread_woken_by_an_old_permit_takes_itself_off_the_idle_list() {
        let (_, job) = jobs();
        let (tx, rx, a, _b) = two_idle_threads();
        assert!(tx.try_send(job(1)).is_ok(), "wakes b");
        // `a` comes first and takes the job meant for `b`.
        assert!(rx.recv(&a).await.is_some());
        assert!(rx.shared.state().idle.is_empty(), "a is busy, b was woken");
    }

    #[tokio::test]
    async fn a_job_waits_for_a_running_thread_until_it_steps_aside() {
        let (_, job) = jobs();
        let (tx, rx) = bounded(8);
        let (busy, idle) = (Arc::new(Place::default()), Arc::new(Place::default()));
        assert!(tx.try_send(job(1)).is_ok());
        let _running = rx.recv(&busy).await.expect("a job");
        rx.shared.state().idle.push(idle.clone());
        assert!(tx.try_send(job(2)).is_ok());
        assert_eq!(
            rx.shared.state().idle.len(),
            1,
            "the running thread takes it next"
        );
        assert!(tx.try_send(job(3)).is_ok());
        assert!(
            rx.shared.state().idle.is_empty(),
            "two wait: the idle one is woken"
        );
        rx.shared.state().idle.push(idle.clone());
        assert!(rx.recv(&idle).await.is_some());
        assert_eq!(rx.shared.state().running, 2);
        rx.step_aside(&busy);
        rx.step_aside(&idle);
        assert_eq!(
            rx.shared.state().running,
            0,
            "stepping aside twice counts once"
        );
    }

    #[tokio::test]
    async fn a_thread_that_dies_mid_job_no_longer_counts_as_running() {
        let (_, job) = jobs();
        let (tx, rx) = bounded(8);
        assert!(tx.try_send(job(1)).is_ok());
        let dying = {
            let rx = rx.clone();
            tokio::spawn(async move {
                let me = rx.stand();
                let _job = rx.recv(&me).await;
                panic!("a bug on an engine thread");
            })
        };
        assert!(dying.await.is_err(), "the thread died");
        assert_eq!(rx.shared.state().running, 0);
        let idle = Arc::new(Place::default());
        rx.shared.state().idle.push(idle.clone());
        assert!(tx.try_send(job(2)).is_ok());
        assert!(
            rx.shared.state().idle.is_empty(),
            "nobody else will take the job: the idle thread is woken"
        );
    }

    #[tokio::test]
    async fn a_long_execution_yields_to_a_login_that_stepped_aside_but_not_to_another_long_one() {
        let (_, job) = jobs();
        let (tx, rx) = bounded(8);
        let (good, looping, other) = (rx.stand(), rx.stand(), rx.stand());
        assert!(tx.try_send(job(1)).is_ok());
        assert!(tx.try_send(job(2)).is_ok());
        let _good = rx.recv(&good).await.expect("a job");
        let _looping = rx.recv(&looping).await.expect("a job");
        rx.step_aside(&good); // its Action waits on fetch, or has run 1 ms
        rx.step_aside(&looping); // past 1 ms of CPU
        assert!(
            rx.busy_beside(&looping),
            "the good login is still on the engines and will want a core again"
        );
        rx.job_ended(&good, true);
        assert!(!rx.busy_beside(&looping), "alone");
        assert!(tx.try_send(job(3)).is_ok());
        let _other = rx.recv(&other).await.expect("a job");
        rx.step_aside(&other);
        assert!(
            !rx.busy_beside(&other),
            "two long executions do not pace each other"
        );
        rx.long_ended(&looping);
        assert!(
            rx.busy_beside(&other),
            "the looping login's next execution is not long (yet)"
        );
        drop((looping, other));
        let state = rx.shared.state();
        assert_eq!((state.running, state.holding, state.long), (0, 0, 0));
    }

    #[tokio::test]
    async fn a_long_execution_yields_to_a_login_still_on_the_http_side() {
        let (_, job) = jobs();
        let (tx, rx) = bounded(8);
        let looping = rx.stand();
        let _its_login = tx.enter();
        assert!(tx.try_send(job(1)).is_ok());
        let _job = rx.recv(&looping).await.expect("a job");
        rx.step_aside(&looping);
        assert!(!rx.busy_beside(&looping), "only its own login is in flight");
        let parsing = tx.enter();
        assert!(rx.busy_beside(&looping), "another login is being parsed");
        drop(parsing);
        assert!(!rx.busy_beside(&looping), "and is answered");
    }

    #[tokio::test]
    async fn a_thread_that_stays_takes_the_next_job_itself_and_one_that_leaves_wakes_another() {
        let (_, job) = jobs();
        let (tx, rx) = bounded(8);
        let worker = rx.stand();
        assert!(tx.try_send(job(1)).is_ok());
        let _first = rx.recv(&worker).await.expect("a job");
        let (a, b) = (Arc::new(Place::default()), Arc::new(Place::default()));
        rx.shared.state().idle.extend([a, b]);
        assert!(tx.try_send(job(2)).is_ok(), "waits for the running thread");
        rx.job_ended(&worker, false);
        assert_eq!(rx.shared.state().idle.len(), 2, "it takes job 2 itself");
        let _second = rx.recv(&worker).await.expect("job 2");
        assert!(tx.try_send(job(3)).is_ok());
        rx.job_ended(&worker, true);
        assert_eq!(
            rx.shared.state().idle.len(),
            1,
            "leaving, it wakes an idle thread"
        );
    }

    #[tokio::test]
    async fn dropping_the_last_sender_ends_waiting_threads_after_the_queued_jobs() {
        let (log, job) = jobs();
        let (tx, rx) = bounded(4);
        let tx2 = tx.clone();
        assert!(tx.try_send(job(1)).is_ok());
        let waiter = {
            let rx = rx.clone();
            let me = Arc::new(Place::default());
            tokio::spawn(async move {
                while let Some(job) = rx.recv(&me).await {
                    job.finish();
                }
            })
        };
        tokio::task::yield_now().await;
        drop(tx);
        assert!(!rx.is_closed(), "one sender is left");
        drop(tx2);
        assert!(rx.is_closed());
        waiter.await.expect("the waiter ends");
        assert!(rx.recv(&Arc::new(Place::default())).await.is_none());
        assert_eq!(
            *log.lock().expect("log"),
            vec![1],
            "the queued job is served first"
        );
    }
}

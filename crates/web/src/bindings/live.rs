//! Live updates: `collection.subscribe(listener, { pollIntervalMs, onError })`.
//!
//! Every manifest commit a database makes is announced on a `BroadcastChannel` named after its
//! store (`{ c: collection, v: version }`), which reaches every other handle, tab and worker of
//! the origin that has the same store open. A subscription takes a message only as a hint:
//! it re-reads the manifest with the store's cheap conditional read (the source of truth),
//! which moves the handle's snapshot, and only then calls the listener with the new version.
//! Where `BroadcastChannel` is missing (workerd) a subscription polls instead (every second by
//! default). Versions only grow, so a burst of commits may reach the listener as one call with
//! the latest version; it is never called twice for one version, nor with an older one.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use super::errors::{invalid, to_js as err_of, JsResult};
use crate::js::{global_fn, method, prop};
use akidb_core::collection::Collection;

/// Poll interval of a subscription in a runtime without `BroadcastChannel`.
const DEFAULT_POLL_MS: f64 = 1000.0;

/// `new BroadcastChannel(name)`, or `None` where the runtime has none.
fn channel(name: &str) -> Option<JsValue> {
    let ctor = global_fn("BroadcastChannel")?;
    Reflect::construct(&ctor, &Array::of1(&JsValue::from_str(name))).ok()
}

fn call_method(obj: &JsValue, name: &str, args: &Array) -> Result<JsValue, JsValue> {
    let f = method(obj, name).ok_or_else(|| JsValue::from_str(&format!("{name} is not a function")))?;
    f.apply(obj, args)
}

/// The sending side: one channel per database, posting `{ c, v }` after each commit.
pub struct Announcer {
    name: String,
    channel: RefCell<Option<JsValue>>,
}

impl Announcer {
    /// An announcer on channel `name` (nothing is sent where `BroadcastChannel` is missing).
    pub fn new(name: String) -> Self {
        let ch = channel(&name);
        if let Some(c) = &ch {
            // Node: a channel that only sends must not keep the process alive.
            let _ = call_method(c, "unref", &Array::new());
        }
        Announcer { name, channel: RefCell::new(ch) }
    }

    /// The channel name subscriptions listen on.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Announces that `collection` reached `version`.
    pub fn announce(&self, collection: &str, version: u64) {
        if let Some(c) = self.channel.borrow().as_ref() {
            let msg = Object::new();
            let _ = Reflect::set(&msg, &"c".into(), &JsValue::from_str(collection));
            let _ = Reflect::set(&msg, &"v".into(), &JsValue::from_f64(version as f64));
            if let Err(e) = call_method(c, "postMessage", &Array::of1(&msg)) {
                log::debug!("announcing '{collection}' v{version} failed: {e:?}");
            }
        }
    }

    /// Closes the channel (`db.close()`).
    pub fn close(&self) {
        if let Some(c) = self.channel.borrow_mut().take() {
            let _ = call_method(&c, "close", &Array::new());
        }
    }
}

/// The `onmessage` handler of a subscription's channel.
type MessageHandler = Closure<dyn FnMut(JsValue)>;

/// One `subscribe` call: its channel, its poll timer and the state of its checks.
struct Subscription {
    coll: Rc<Collection>,
    listener: Function,
    on_error: Option<Function>,
    /// The last version the listener was called with (or the version at subscribe time).
    last: Cell<u64>,
    /// A check is running; `again`: another was asked for meanwhile.
    busy: Cell<bool>,
    again: Cell<bool>,
    stopped: Cell<bool>,
    channel: RefCell<Option<JsValue>>,
    timer: RefCell<Option<JsValue>>,
    on_message: RefCell<Option<MessageHandler>>,
    on_tick: RefCell<Option<Closure<dyn FnMut()>>>,
}

impl Subscription {
    /// Re-reads the manifest (unless `hint` is a version the handle already has) and calls
    /// the listener when the snapshot moved past the last version it was told. One check at
    /// a time; a request during a check runs one more check after it.
    fn check(self: &Rc<Self>, hint: Option<u64>) {
        if self.stopped.get() {
            return;
        }
        if let Some(v) = hint {
            if v <= self.last.get() && v <= self.coll.version() {
                return;
            }
        }
        if self.busy.replace(true) {
            self.again.set(true);
            return;
        }
        let me = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                me.again.set(false);
                if me.stopped.get() {
                    break;
                }
                match me.coll.refresh().await {
                    Ok(_) => me.notify(),
                    Err(e) => me.report(err_of(e)),
                }
                if !me.again.get() {
                    break;
                }
            }
            me.busy.set(false);
        });
    }

    fn notify(&self) {
        let v = self.coll.version();
        if v > self.last.get() && !self.stopped.get() {
            self.last.set(v);
            if let Err(e) = self.listener.call1(&JsValue::NULL, &JsValue::from_f64(v as f64)) {
                log::warn!("a subscribe() listener of '{}' threw: {e:?}", self.coll.name());
            }
        }
    }

    fn report(&self, e: JsValue) {
        match &self.on_error {
            Some(f) => {
                let _ = f.call1(&JsValue::NULL, &e);
            }
            None => log::warn!("subscription of '{}': refreshing failed: {e:?}", self.coll.name()),
        }
    }

    fn stop(&self) {
        if self.stopped.replace(true) {
            return;
        }
        if let Some(c) = self.channel.borrow_mut().take() {
            let _ = Reflect::set(&c, &"onmessage".into(), &JsValue::NULL);
            let _ = call_method(&c, "close", &Array::new());
        }
        if let Some(t) = self.timer.borrow_mut().take() {
            if let Some(clear) = global_fn("clearInterval") {
                let _ = clear.call1(&JsValue::NULL, &t);
            }
        }
        // Breaks the cycles closure → subscription → closure.
        self.on_message.borrow_mut().take();
        self.on_tick.borrow_mut().take();
    }
}

/// `collection.subscribe(listener, { pollIntervalMs, onError })` → `unsubscribe()`.
pub fn subscribe(coll: Rc<Collection>, channel_name: &str, listener: JsValue, options: &JsValue) -> JsResult<JsValue> {
    let listener = listener.dyn_into::<Function>().map_err(|_| invalid("listener must be a function"))?;
    let super::options::SubscribeOptions { on_error, poll } = super::options::subscribe(options)?;
    let sub = Rc::new(Subscription {
        last: Cell::new(coll.version()),
        coll,
        listener,
        on_error,
        busy: Cell::new(false),
        again: Cell::new(false),
        stopped: Cell::new(false),
        channel: RefCell::new(None),
        timer: RefCell::new(None),
        on_message: RefCell::new(None),
        on_tick: RefCell::new(None),
    });
    let ch = channel(channel_name);
    if let Some(c) = &ch {
        let s = sub.clone();
        let on_message = MessageHandler::new(move |ev: JsValue| {
            let data = prop(&ev, "data");
            if prop(&data, "c").as_string().as_deref() == Some(s.coll.name()) {
                s.check(prop(&data, "v").as_f64().map(|v| v as u64));
            }
        });
        Reflect::set(c, &"onmessage".into(), on_message.as_ref())?;
        *sub.on_message.borrow_mut() = Some(on_message);
    }
    *sub.channel.borrow_mut() = ch.clone();
    let every = match poll {
        Some(d) => d.as_secs_f64() * 1000.0,
        None if ch.is_some() => 0.0,
        None => DEFAULT_POLL_MS,
    };
    if every > 0.0 {
        let s = sub.clone();
        let on_tick = Closure::<dyn FnMut()>::new(move || s.check(None));
        let set = global_fn("setInterval")
            .ok_or_else(|| invalid("options.pollIntervalMs: this runtime has no setInterval"))?;
        let id = set.call2(&JsValue::NULL, on_tick.as_ref(), &JsValue::from_f64(every))?;
        *sub.timer.borrow_mut() = Some(id);
        *sub.on_tick.borrow_mut() = Some(on_tick);
    }
    // A commit between the handle's last read and this call is not missed.
    sub.check(None);
    let s = sub.clone();
    Ok(Closure::<dyn FnMut()>::new(move || s.stop()).into_js_value())
}

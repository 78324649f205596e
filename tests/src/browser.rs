//! A minimal W3C WebDriver client over `chromedriver` and Debian's headless
//! Chromium, for browser tests that click through the real app. Screenshots are
//! kept under `target/e2e/artifacts/` as test artefacts.

use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    _profile: PathBuf,
    _slot: Slot,
}

/// At most two browsers at once per test binary: on a 2-core machine more
/// Chromiums than cores only make every page wait (and time out).
struct Slot;

static SLOTS: (std::sync::Mutex<usize>, std::sync::Condvar) = (std::sync::Mutex::new(0), std::sync::Condvar::new());
const MAX_BROWSERS: usize = 2;

impl Slot {
    fn take() -> Slot {
        let mut used = SLOTS.0.lock().unwrap_or_else(|e| e.into_inner());
        while *used >= MAX_BROWSERS {
            used = SLOTS.1.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        *used += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        *SLOTS.0.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        SLOTS.1.notify_one();
    }
}

pub struct Element(String);

impl Browser {
    /// Starts chromedriver and a headless Chromium window of the given size.
    pub fn start(width: u32, height: u32, dark: bool) -> Browser {
        let slot = Slot::take();
        let driver_bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("chromedriver not found: install Debian's chromium and chromium-driver (.ci/run does)");
        let addr = crate::free_addr();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={}", addr.port()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let started = Instant::now();
        while loopback_http::request(addr, "GET", "/status", &[("host", "localhost")], b"").is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = crate::scratch("chromium-profile");
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--disable-quic".into(),
            format!("--user-data-dir={}", profile.display()),
            format!("--window-size={width},{height}"),
        ];
        if dark {
            args.push("--force-dark-mode".into());
            args.push("--blink-settings=preferredColorScheme=0".into());
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}
        }}});
        let mut b = Browser { driver, addr, session: String::new(), _profile: profile, _slot: slot };
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"].as_str().expect("session id").to_string();
        b
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let r = loopback_http::request(
            self.addr,
            method,
            path,
            &[("host", "localhost"), ("content-type", "application/json")],
            body.as_bytes(),
        )
        .unwrap_or_else(|e| panic!("webdriver {method} {path}: {e}"));
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        assert!(r.status < 400, "webdriver {method} {path} -> {}: {}", r.status, r.text());
        v["value"].clone()
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.call("GET", &self.s("/url"), None).as_str().unwrap_or("").to_string()
    }

    /// Runs JavaScript in the page and returns its result.
    pub fn js(&self, script: &str) -> Value {
        self.call("POST", &self.s("/execute/sync"), Some(json!({ "script": script, "args": [] })))
    }

    fn find_now(&self, css: &str) -> Option<Element> {
        let body = json!({ "using": "css selector", "value": css }).to_string();
        let r = loopback_http::request(
            self.addr,
            "POST",
            &self.s("/elements"),
            &[("host", "localhost"), ("content-type", "application/json")],
            body.as_bytes(),
        )
        .ok()?;
        let v: Value = serde_json::from_slice(&r.body).ok()?;
        v["value"].as_array()?.first()?[ELEMENT_KEY].as_str().map(|s| Element(s.to_string()))
    }

    /// Waits up to 10 s for an element.
    pub fn find(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Some(e) = self.find_now(css) {
                return e;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let html = self.js("return document.body ? document.body.innerHTML.slice(0, 2000) : ''");
                panic!("no element `{css}` after 10 s at {}; page starts: {html}", self.url());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn count(&self, css: &str) -> usize {
        self.js(&format!("return document.querySelectorAll({}).length", json!(css))).as_u64().unwrap_or(0) as usize
    }

    /// Waits until `count(css) >= n`.
    pub fn wait_count(&self, css: &str, n: usize) -> usize {
        let started = Instant::now();
        loop {
            let c = self.count(css);
            if c >= n {
                return c;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "expected {n} of `{css}`, have {c}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn click(&self, e: &Element) {
        self.call("POST", &self.s(&format!("/element/{}/click", e.0)), Some(json!({})));
    }

    pub fn type_text(&self, e: &Element, text: &str) {
        self.call("POST", &self.s(&format!("/element/{}/value", e.0)), Some(json!({ "text": text })));
    }

    pub fn text(&self, e: &Element) -> String {
        self.call("GET", &self.s(&format!("/element/{}/text", e.0)), None).as_str().unwrap_or("").to_string()
    }

    /// Sends keys to whatever has focus (e.g. a keyboard shortcut).
    pub fn keys(&self, text: &str) {
        let actions: Vec<Value> = text
            .chars()
            .flat_map(|c| [json!({"type": "keyDown", "value": c.to_string()}), json!({"type": "keyUp", "value": c.to_string()})])
            .collect();
        self.call(
            "POST",
            &self.s("/actions"),
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        );
    }

    /// Signs the demo tenant's owner in at `base` (the app at its address,
    /// port included), landing on the contacts.
    pub fn sign_in_owner(&self, base: &str) {
        self.sign_in(base, "owner@demo.example", crate::OWNER_PASSWORD);
    }

    /// Signs `email` in through the sign-in page (the app sends a visitor
    /// without a session there) and waits for the contacts list.
    pub fn sign_in(&self, base: &str, email: &str, password: &str) {
        self.goto(&format!("{base}/contacts"));
        self.find("[data-testid=sign-in-form]");
        self.type_text(&self.find("[data-testid=sign-in-email]"), email);
        self.type_text(&self.find("[data-testid=sign-in-password]"), password);
        self.click(&self.find("[data-testid=sign-in-submit]"));
        self.find("[data-testid=contacts-table], [data-testid=empty-state]");
    }

    /// Polls `script` (JavaScript answering true once the page is as expected) for up to 10 s.
    pub fn wait_for(&self, what: &str, script: &str) {
        for _ in 0..200 {
            if self.js(script).as_bool() == Some(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{what}: not so after 10 s at {}; page reads: {}", self.url(), self.js("return document.body.innerText.slice(0, 2000)"));
    }

    /// Clicks `css` after scrolling it to the middle of the window (the sticky
    /// top bar would take a click meant for something scrolled under it).
    pub fn click_css(&self, css: &str) {
        let e = self.find(css);
        self.js(&format!("document.querySelector({}).scrollIntoView({{block: 'center'}})", json!(css)));
        self.click(&e);
    }

    /// In the rule builder: the rule's only action becomes "create a task
    /// `subject` for the record's owner".
    pub fn rule_task_action(&self, subject: &str) {
        self.find("[data-testid=rule-actions-empty]");
        self.click_css("[data-testid=rule-add-action]");
        assert_eq!(self.wait_count("[data-testid=rule-action-row]", 1), 1);
        self.set_value("[data-testid=rule-action-kind]", "create_task", "change");
        self.find("[data-testid=rule-action-subject]");
        self.set_value("[data-testid=rule-action-subject]", "", "input");
        self.type_text(&self.find("[data-testid=rule-action-subject]"), subject);
        self.set_value("[data-testid=rule-action-user]", "owner", "change");
    }

    /// Sets a <select> (or any input) `css` by script and tells the page (`event`: input, change).
    pub fn set_value(&self, css: &str, value: &str, event: &str) {
        self.js(&format!(
            "const s = document.querySelector({}); s.value = {}; s.dispatchEvent(new Event({}, {{bubbles: true}}));",
            json!(css),
            json!(value),
            json!(event)
        ));
    }

    /// The inner text of the first element matching `css` (empty when there is none).
    pub fn text_of(&self, css: &str) -> String {
        self.js(&format!("const e = document.querySelector({}); return e ? e.innerText : ''", json!(css))).as_str().unwrap_or("").to_string()
    }

    /// Saves a PNG screenshot to `target/e2e/artifacts/<name>.png` and returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.call("GET", &self.s("/screenshot"), None);
        let bytes = decode_base64(b64.as_str().unwrap_or(""));
        assert!(bytes.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        let dir = crate::repo_root().join("target/e2e/artifacts");
        std::fs::create_dir_all(&dir).expect("artifacts dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("write screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = loopback_http::request(self.addr, "DELETE", &self.s(""), &[("host", "localhost")], b"");
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let clean: Vec<u32> = s.bytes().filter_map(val).collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, v)| acc | v << (18 - 6 * i));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

//! The restore path without a terminal: the panic hook restores the terminal before the
//! hook that was there before prints the panic (and still calls it), and restoring twice
//! does nothing the second time. (The pty test checks the real terminal.)

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ploke_tui::terminal;

static CALLS: AtomicUsize = AtomicUsize::new(0);
static ACTIVE_WHEN_PRINTED: AtomicBool = AtomicBool::new(true);

#[test]
fn the_panic_hook_restores_first_then_chains() {
    // The hook that prints panics, as the panic hook finds it.
    std::panic::set_hook(Box::new(|_| {
        CALLS.fetch_add(1, Ordering::SeqCst);
        ACTIVE_WHEN_PRINTED.store(terminal::active(), Ordering::SeqCst);
    }));
    terminal::install_panic_hook();
    terminal::install_panic_hook(); // once is enough: not twice on the chain

    terminal::pretend_entered();
    assert!(terminal::active());
    let r = std::thread::spawn(|| panic!("in a frame")).join();
    assert!(r.is_err());
    assert_eq!(
        CALLS.load(Ordering::SeqCst),
        1,
        "the previous hook ran, once"
    );
    assert!(
        !ACTIVE_WHEN_PRINTED.load(Ordering::SeqCst),
        "the terminal was restored before the message"
    );
    assert!(!terminal::active());
    assert!(!terminal::restore(), "nothing left to restore");

    // A drop restores too, once.
    terminal::pretend_entered();
    assert!(terminal::restore());
    assert!(!terminal::restore());
    let _ = std::panic::take_hook();
}

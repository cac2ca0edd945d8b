use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::*;
use crate::net::{TcpListener, TcpStream, bind_reuseport, write_all};

fn listener() -> (TcpListener, SocketAddr) {
    let l = bind_reuseport("127.0.0.1:0".parse().unwrap()).unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

async fn read_some(s: &mut TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| s.poll_read(cx, buf)).await
}

async fn read_to_end(s: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0; 8192];
    loop {
        match read_some(s, &mut buf).await? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn tasks_run_and_sleeps_wake_in_deadline_order() {
    let order = run(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, ms) in [(0, 30u64), (1, 10), (2, 20)] {
            let order = order.clone();
            tasks.push(spawn_local(async move {
                let t = Instant::now();
                sleep(Duration::from_millis(ms)).await;
                assert!(t.elapsed() >= Duration::from_millis(ms));
                order.borrow_mut().push(i);
                i
            }));
        }
        let mut sum = 0;
        for t in tasks {
            sum += t.await;
        }
        assert_eq!(sum, 3);
        order.borrow().clone()
    })
    .unwrap();
    assert_eq!(order, vec![1, 2, 0]);
}

#[test]
fn echo_over_loopback_and_eof() {
    run(async {
        let (l, addr) = listener();
        let server = spawn_local(async move {
            let (mut s, peer) = l.accept().await.unwrap();
            assert!(peer.ip().is_loopback());
            let got = read_to_end(&mut s).await.unwrap();
            write_all(&mut s, &got).await.unwrap();
            s.shutdown_write().unwrap();
        });
        let mut c = TcpStream::connect_timeout(addr, Duration::from_secs(2))
            .await
            .unwrap();
        write_all(&mut c, b"hello, ring").await.unwrap();
        c.shutdown_write().unwrap();
        assert_eq!(read_to_end(&mut c).await.unwrap(), b"hello, ring");
        server.await;
    })
    .unwrap();
}

#[test]
fn large_writes_wait_for_writable_readiness() {
    // 8 MiB does not fit in socket buffers: the writer must hit EAGAIN and
    // be woken by POLLOUT readiness while the reader drains slowly.
    const LEN: usize = 8 << 20;
    let got = run(async {
        let (l, addr) = listener();
        let writer = spawn_local(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
            write_all(&mut s, &data).await.unwrap();
        });
        let mut c = TcpStream::connect_timeout(addr, Duration::from_secs(2))
            .await
            .unwrap();
        sleep(Duration::from_millis(50)).await;
        let got = read_to_end(&mut c).await.unwrap();
        writer.await;
        got
    })
    .unwrap();
    assert_eq!(got.len(), LEN);
    assert!(got.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
}

#[test]
fn connect_refused_is_reported() {
    run(async {
        // Bind then drop to find a port nobody listens on.
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let e = TcpStream::connect_timeout(addr, Duration::from_secs(2))
            .await
            .err()
            .expect("connect must fail");
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    })
    .unwrap();
}

#[test]
fn closed_sources_free_their_slots_and_late_events_are_ignored() {
    run(async {
        let (l, addr) = listener();
        let base = with_reactor(|r| r.live_sources());
        for round in 0..50u8 {
            let mut c = TcpStream::connect_timeout(addr, Duration::from_secs(2))
                .await
                .unwrap();
            let (mut s, _) = l.accept().await.unwrap();
            write_all(&mut c, &[round]).await.unwrap();
            let mut b = [0u8; 4];
            assert_eq!(read_some(&mut s, &mut b).await.unwrap(), 1);
            assert_eq!(b[0], round);
            // Dropping with readiness events still in flight: their
            // completions carry the old generation and must not disturb
            // the next round's sockets, which reuse the slots.
            drop(c);
            assert_eq!(read_some(&mut s, &mut b).await.unwrap(), 0, "peer closed");
        }
        assert_eq!(with_reactor(|r| r.live_sources()), base);
    })
    .unwrap();
}

#[test]
fn dropping_a_task_cancels_it_and_blocking_work_comes_back() {
    run(async {
        let flag = Rc::new(RefCell::new(false));
        let f = flag.clone();
        let t = spawn_local(async move {
            sleep(Duration::from_millis(20)).await;
            *f.borrow_mut() = true;
        });
        drop(t);
        let v = spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(30));
            42
        })
        .await;
        assert_eq!(v, 42);
        assert!(!*flag.borrow(), "the cancelled task never ran to the end");
    })
    .unwrap();
}

#[test]
fn pending_tasks_are_dropped_when_the_main_future_ends() {
    let (l, addr) = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        (l, a)
    };
    run(async move {
        // A detached task parked on a read forever: tear-down must drop it
        // (closing its socket) instead of leaking it.
        let mut c = TcpStream::connect_timeout(addr, Duration::from_secs(2))
            .await
            .unwrap();
        spawn_local(async move {
            let mut b = [0u8; 1];
            let _ = read_some(&mut c, &mut b).await;
        })
        .detach();
        sleep(Duration::from_millis(10)).await;
    })
    .unwrap();
    let (mut s, _) = l.accept().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut b = [0u8; 1];
    use std::io::Read;
    assert_eq!(
        s.read(&mut b).unwrap(),
        0,
        "the parked task's socket was closed"
    );
}

#[test]
fn a_peer_close_on_an_idle_connection_shows_as_a_pending_read_event() {
    run(async {
        let (l, addr) = listener();
        let mut c = TcpStream::connect_timeout(addr, Duration::from_secs(2))
            .await
            .unwrap();
        let (mut s, _) = l.accept().await.unwrap();
        write_all(&mut s, b"response").await.unwrap();
        let mut b = [0u8; 64];
        assert_eq!(read_some(&mut c, &mut b).await.unwrap(), 8);
        // The short read emptied the socket: clean, no syscall needed.
        sleep(Duration::from_millis(20)).await;
        assert!(!c.read_event_pending(), "idle and clean");
        drop(s);
        sleep(Duration::from_millis(20)).await;
        assert!(c.read_event_pending(), "the FIN was seen by the reactor");
        assert_eq!(read_some(&mut c, &mut b).await.unwrap(), 0);
    })
    .unwrap();
}

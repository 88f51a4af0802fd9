//! A TCP relay between a party node and the coordinator that the demo can
//! take down and bring back: the "contested logistics" cut. While down it
//! refuses new connections and has cut the open ones, exactly what a node
//! sees when its satellite link or undersea cable goes. It relays bytes and
//! never looks inside them (the node's mTLS runs end to end through it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running relay; dropping it stops it.
pub struct LinkRelay {
    /// Where the node connects.
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LinkRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LinkRelay {
    /// Relays `127.0.0.1:0` to `target`, link up.
    pub async fn start(target: SocketAddr) -> std::io::Result<LinkRelay> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let up = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0u64);
        let task = {
            let (up, cuts) = (up.clone(), cuts.clone());
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        continue; // dropped: the link is down
                    }
                    let mut cut = cuts.subscribe();
                    tokio::spawn(async move {
                        let Ok(mut outbound) = TcpStream::connect(target).await else {
                            return;
                        };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = cut.changed() => {}
                        }
                    });
                }
            })
        };
        Ok(LinkRelay { addr, up, cuts, task })
    }

    /// Cuts the link: open connections drop, new ones are refused.
    pub fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    /// Restores the link.
    pub fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// Whether the link is up.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }
}

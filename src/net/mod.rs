//! Sockets: `SO_REUSEPORT` listeners for the shards and upstream connects.
//!
//! Every shard binds every server address itself, so the kernel spreads
//! accepted connections across cores and no accept queue is shared. This
//! module does not speak any protocol.

mod io;
mod listen;
mod stream;

pub use io::{SCRATCH_SIZE, Scratch, close_write, write_all};

pub use listen::{bind_reuseport, bind_std_reuseport};
pub use stream::{TcpListener, TcpStream};

#[macro_export]
macro_rules! cfg_rt {
    ($($item:item)*) => { $( #[cfg(feature = "rt")] $item )* };
}

macro_rules! local { () => {}; ($e:expr) => { $e }; }

cfg_rt! {
    pub mod runtime;
    pub fn spawn() -> crate::runtime::Handle { todo!() }
    cfg_net! {
        pub struct TcpStream { fd: i32 }
    }
}

cfg_feature! {
    #![feature = "client"]
    pub mod client { pub fn connect() {} }
}

impl Handle {
    forward! { fn a(&self) {} }
}

trait T { items! { fn b(&self); } }

local!(1);

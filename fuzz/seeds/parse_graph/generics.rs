use std::{fmt::{self, Display}, io::Result as IoResult, ops::*};

pub(crate) struct Wrapper<'a, T: ?Sized + 'a, const N: usize>(&'a T, [u8; N]);

impl<'a, T: Display + ?Sized, const N: usize> fmt::Display for Wrapper<'a, T, N>
where
    T: 'a,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

pub(super) async unsafe fn weird<F: FnOnce() -> IoResult<()>>(f: F) -> impl Sized { f() }

pub(in crate::a) trait Alias = Display + Send;

impl dyn Display {}
impl<T> [T] {}
impl (u8, u16) {}
impl<'a> &'a str {}

//! Crate docs.
#![allow(dead_code)]

use std::collections::HashMap;
use crate::inner::{Thing as Renamed, helper, self};
pub use self::inner::*;

/// A point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point<T: Copy> {
    pub x: T,
    y: T,
}

pub struct Unit;
struct Tuple(pub u32, Vec<String>);

pub enum Shape {
    Circle { r: f64 },
    Square(f64),
    Empty = 3,
}

pub union Bits { i: u32, f: f32 }

pub trait Area: Sized {
    const SIDES: u32;
    type Out;
    fn area(&self) -> f64;
    fn twice(&self) -> f64 { self.area() * 2.0 }
}

impl<T: Copy> Point<T> {
    pub const ORIGIN: u8 = 0;
    pub fn new(x: T, y: T) -> Self { Point { x, y } }
}

impl Area for Shape {
    const SIDES: u32 = 0;
    type Out = f64;
    fn area(&self) -> f64 {
        match self {
            Shape::Circle { r } => 3.14 * r * r,
            Shape::Square(s) => s * s,
            Shape::Empty => 0.0,
        }
    }
}

impl !Send for Unit {}

pub type Map = HashMap<String, Point<i32>>;
pub const LIMIT: usize = 10;
static mut COUNTER: u64 = 0;

pub mod inner {
    pub struct Thing;
    pub fn helper() -> super::Unit { super::Unit }
    #[cfg(test)]
    mod tests {
        #[test]
        fn works() { assert_eq!(super::helper() as u8, 0); }
    }
}

mod on_disk;

extern crate alloc as a;
extern "C" {
    fn abs(x: i32) -> i32;
    static errno: i32;
}

fn main() {
    let p = Point::new(1, 2);
    let m: Map = Map::new();
    println!("{:?} {}", p, m.len());
    inner::helper();
}

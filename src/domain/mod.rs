//! Small validated types shared by every layer.

pub mod state;

//! Sans-IO HTTP/1.1 codec (placeholder until the codec lands).

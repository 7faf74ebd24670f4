"""What a run is made of: the adapter builds out of published jco releases (npm, pinned by
sha256), the guests, a guest composed with a build, compiled code kept between processes,
and the cache they are all kept in, written atomically.

Imports only ``model``; never runs a guest (that is ``runs``).
"""

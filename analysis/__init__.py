"""preopen lab: the WASIp1-to-WASIp2 adapter preopen bug (wasmtime#10058), measured."""

#!/bin/sh
# Filled in with the runtime core: builds a busybox bundle and runs it.
echo "demo: husk binary at $1"

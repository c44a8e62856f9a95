# Sourced by the fuzz build scripts: what a program linked against
# libkvmpc-core.a needs besides it (the libraries meson gives core_deps).
kvmpc_libs="$(pkg-config --libs glib-2.0 gio-2.0 json-glib-1.0 zlib libzstd slirp libpng)
 $(pkg-config --libs liburing 2>/dev/null) -llzma -lpthread -lm"

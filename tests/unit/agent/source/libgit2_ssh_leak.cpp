// Sanitizer settings for test binaries that connect to remotes over SSH
// (linked into those binaries only, which hold nothing but remote tests, so
// the suppressions hide nothing else).
//
// Debian's libgit2 1.5.1 (with its backported known_hosts patch) leaks a few
// bytes per SSH connection inside git_remote_connect, and its socket stream
// when a connection is refused; LeakSanitizer ignores exactly those library
// allocations. libgit2 is built without frame pointers: the slow unwinder is
// needed for the stacks to reach the frames named in the suppressions.
extern "C" __attribute__((visibility("default"), used)) const char* __asan_default_options() {
  return "fast_unwind_on_malloc=0";
}
extern "C" __attribute__((visibility("default"), used)) const char* __lsan_default_suppressions() {
  return "leak:libssh2_knownhost_init\nleak:git_remote_connect_ext\n";
}

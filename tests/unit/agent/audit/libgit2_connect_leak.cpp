// Sanitizer settings for the audit tests that push to remotes that are down
// (linked into those test binaries only, so the suppression hides nothing
// elsewhere).
//
// libgit2 1.5 leaks its socket stream (about 200 bytes) each time a git://
// connection is refused: one leak per failed push. Suppressed by that
// libgit2 entry point only, so leaks of our own libgit2 objects are still
// reported. libgit2 has no frame pointers, so matching its entry point needs
// the slow unwinder.
extern "C" const char* __lsan_default_suppressions() {  // NOLINT(bugprone-reserved-identifier): sanitizer hook
  return "leak:git_remote_connect_ext\n";
}
extern "C" const char* __asan_default_options() {  // NOLINT(bugprone-reserved-identifier): sanitizer hook
  return "fast_unwind_on_malloc=0";
}

// Runs in every test worker before each test file (setupFiles of every
// package's project). Keep it silent and cheap: it must print nothing.
// Docker is started once per run by test-support/run-tests.mjs, not here.
export {};

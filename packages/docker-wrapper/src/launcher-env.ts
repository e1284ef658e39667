/** What Node reads at every start (see launcher.ts, hideExtraCaCerts). */
export const EXTRA_CA_CERTS = 'NODE_EXTRA_CA_CERTS';
/** Where the launcher keeps it meanwhile. */
export const HIDDEN_EXTRA_CA_CERTS = 'DS01_NODE_EXTRA_CA_CERTS';

/**
 * Puts back what the launcher set aside before starting Node, so everything
 * the wrapper runs (the real client first) sees the caller's environment.
 */
export function restoreLauncherEnv(env: NodeJS.ProcessEnv): void {
  if (!(HIDDEN_EXTRA_CA_CERTS in env)) return;
  env[EXTRA_CA_CERTS] = env[HIDDEN_EXTRA_CA_CERTS];
  delete env[HIDDEN_EXTRA_CA_CERTS];
}

/** The status page's own error (the API's refusals are WebActionError, api.ts). */
import { SynkerError } from '../base/errors.js';

/** The page's port is taken (all of the ports tried, from the default on). */
export class WebPortInUseError extends SynkerError {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly tries: number,
  ) {
    super(
      'E_WEB_PORT_IN_USE',
      tries === 1
        ? `cannot serve the status page on ${host}:${port}: another program holds that port`
        : `cannot serve the status page on ${host}: ports ${port} to ${port + tries - 1} are all taken`,
      {
        hint:
          'Choose another port with --web-port (or "web": {"port": N} in the config), or --no-web for no page.' +
          (process.platform === 'win32'
            ? ' Windows also keeps ranges of ports for itself: `netsh interface ipv4 show excludedportrange protocol=tcp` lists them.'
            : ''),
      },
    );
  }
}

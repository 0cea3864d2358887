import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VERSION } from '../core/version.js';

/**
 * The node's share of config/default.yaml: logging and node keys only, no
 * database or Redis keys (docs/design.md R9). Cut from the project's file so the two
 * never disagree.
 */
export function nodeConfigYaml(root: string): string {
  const full = readFileSync(join(root, 'config/default.yaml'), 'utf8');
  const centerAt = full.indexOf('# ── Center');
  const nodePart = (centerAt >= 0 ? full.slice(0, centerAt) : full).trimEnd();
  return `${nodePart.replace('# tradectl configuration. Every key, its default, and what it does.', '# tradectl execution node configuration. Every key, its default, and what it does.')}\n`;
}

export function bundleReadme(executable: string, exchanges: readonly string[]): string {
  return `# tradectl execution node ${VERSION}

A standalone execution node: it receives signals from the tradectl center,
places the orders (with stop-loss / take-profit) on the exchanges through
ccxt, and answers with one result per account. It has no database and no
Redis code, stores nothing, and writes nothing but its log.

| file | |
|---|---|
| \`${executable}\` | the node as one executable: runs with nothing else installed |
| \`${executable}.cjs\` | the same program for a host that has Node.js ≥ 20: \`node ${executable}.cjs serve\`, no \`npm install\` |
| \`config/default.yaml\` | every setting, documented |

Exchanges in this build: ${exchanges.join(', ')}, and \`paper\` (in-process fills
for tests). An account on any other exchange gets \`exchange_not_supported\`.

The executable carries V8's code cache for its own start-up, recorded when it
was built; \`TRADECTL_SEA_DEBUG=1 ./${executable} --version\` says on stderr
whether this machine's Node accepted it (if not, it still runs, a little slower).

## Run

\`\`\`sh
export NODE_AUTH_SECRET='the secret the center uses'      # at least 16 characters
./${executable} serve --port 9101 --config config/default.yaml
./${executable} heartbeat                                 # is the center reachable and does it accept us?
./${executable} --help
\`\`\`

Settings come from the YAML file (\`--config\`), then environment variables
(\`TRADECTL_<KEY>\`, or the original deployment's names \`NODE_AUTH_ENABLED\`,
\`NODE_AUTH_SECRET\`, \`NODE_ALLOWED_IPS\`, \`CENTER_URL\`, \`NODE_CODE\`,
\`HEARTBEAT_INTERVAL\`), then flags (\`--port\`, \`--host\`, \`--tls-cert\`,
\`--tls-key\`, \`--log-level\`, \`--log-format\`). Set at least:

\`\`\`yaml
node_code: node-sg-1                # as registered on the center
center_url: http://10.0.0.2:8080    # heartbeats go to {center_url}/api/nodes/{node_code}/heartbeat
node_auth_enabled: true             # required to listen beyond 127.0.0.1
node_auth_mode: hmac                # or token (the original deployment's X-Center-Token)
node_allowed_ips: 10.0.0.2          # the center's address
\`\`\`

Without \`node_auth_enabled\` the node listens on 127.0.0.1 only.
SIGTERM lets requests in flight finish (\`shutdown_grace\`, 30 s) and exits 0.

## Ports and network

- The port must match the center's \`base_url\` for this node
  (\`dim_execution_node.base_url\`, e.g. \`http://10.0.0.5:9101\`).
- The center must reach this port; nothing else should. Keep it on a private
  network, allow only the center's address (\`node_allowed_ips\` and your
  firewall), and use TLS (\`tls_cert\` / \`tls_key\`) when the path is not private.
- The node only makes outgoing HTTPS calls to the exchanges and, for
  heartbeats, to the center. Exchange API keys are often bound to this
  machine's IP: that is why accounts are assigned to a node.
- No database or Redis settings are needed (\`db_*\`, \`redis_*\` do not apply).

## systemd

\`\`\`ini
[Unit]
Description=tradectl execution node
After=network-online.target

[Service]
ExecStart=/opt/tradectl/${executable} serve --config /opt/tradectl/config/default.yaml
Environment=NODE_AUTH_SECRET=change-me-to-a-long-random-secret
Restart=on-failure
KillSignal=SIGTERM
TimeoutStopSec=40
DynamicUser=yes
ProtectSystem=strict

[Install]
WantedBy=multi-user.target
\`\`\`

The wire protocol (routes, fields, error codes) is docs/protocol.md in the
tradectl repository.
`;
}

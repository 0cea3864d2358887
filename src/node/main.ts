import { Command } from 'commander';
import { registerNodeCommands } from './commands.js';
import { runProgram } from '../process/run-program.js';

/**
 * The standalone execution node's entry (`tradectl bundle`): only the node
 * commands, so no center, database or Redis code can reach the executable.
 */
const program = new Command('execution-node').description('tradectl execution node: `serve` the execution API, or send a `heartbeat` to the center');
registerNodeCommands(program);

// Exit explicitly: idle keep-alive sockets to exchanges would otherwise hold
// the process open for seconds after a graceful stop.
void runProgram(program, process.argv).then((code) => process.exit(code));

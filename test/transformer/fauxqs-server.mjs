// Runs the fauxqs SQS emulator (ESM-only) in a child process for the jest tests (CommonJS):
// prints {"address": …} once listening on 127.0.0.1 with a random port, stops on SIGTERM.
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({ port: 0, logger: false });
process.stdout.write(`${JSON.stringify({ address: server.address, port: server.port })}\n`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

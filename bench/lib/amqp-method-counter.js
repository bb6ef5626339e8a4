// Preloaded into a benchmark child by bench/broker-counts.ts: counts the AMQP methods this process
// sends and receives (by name) and the bytes of message bodies and headers; on SIGWINCH writes them
// as JSON to $AMQP_COUNT_DIR/<pid>.json. Diagnostic only.
const { writeFileSync } = require('fs');
const { dirname, join } = require('path');

const dir = process.env.AMQP_COUNT_DIR;
let amqplib;
try {
  amqplib = dirname(require.resolve('amqplib', { paths: [process.cwd()] }));
} catch {
  amqplib = undefined;
}
if (dir && amqplib) {
  const { Connection } = require(join(amqplib, 'lib/connection.js'));
  const defs = require(join(amqplib, 'lib/defs.js'));
  const counts = {};
  const add = (key, n = 1) => (counts[key] = (counts[key] || 0) + n);
  const name = (id) => {
    try {
      return defs.info(id).name;
    } catch {
      return undefined;
    }
  };
  const sendMethod = Connection.prototype.sendMethod;
  Connection.prototype.sendMethod = function (channel, method) {
    add(`sent ${name(method)}`);
    return sendMethod.apply(this, arguments);
  };
  const sendMessage = Connection.prototype.sendMessage;
  Connection.prototype.sendMessage = function (channel, method, fields, properties, props, content) {
    add(`sent ${name(method)}`);
    add('sent body bytes', content.length);
    // amqplib's headers inherit the caller's (Object.create): for…in reads those too.
    const headers = {};
    for (const key in props.headers || {}) headers[key] = props.headers[key];
    add('sent header bytes', Buffer.byteLength(JSON.stringify(headers)));
    return sendMessage.apply(this, arguments);
  };
  const recvFrame = Connection.prototype.recvFrame;
  let depth = 0; // recvFrame calls itself when it needs more bytes: count each frame once
  Connection.prototype.recvFrame = function () {
    depth++;
    let frame;
    try {
      frame = recvFrame.apply(this, arguments);
    } finally {
      depth--;
    }
    if (depth > 0) return frame;
    if (frame && frame.fields !== undefined && name(frame.id)) add(`received ${name(frame.id)}`);
    if (frame && frame.content) add('received body bytes', frame.content.length);
    return frame;
  };
  process.on('SIGWINCH', () => writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(counts)));
}

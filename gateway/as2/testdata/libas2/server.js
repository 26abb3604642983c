// A libas2 AS2 receiver for the edigate interop test. It listens on
// 127.0.0.1 (port 0), prints {"port": N} once listening, then one JSON line
// per message received. Run with node --security-revert=CVE-2023-46809 on
// Node 20 so PKCS#1 v1.5 key transport can be decrypted.
// Environment: HOST_CERT, HOST_KEY (libas2's identity), PARTNER_CERT
// (edigate's certificate), MDN_SIGNING (e.g. sha-256, or "none").
'use strict'
const http = require('http')
const fs = require('fs')
const { AS2Parser } = require('libas2')

const agreement = {
  host: {
    name: 'libas2 peer', id: 'LIBAS2', url: 'http://127.0.0.1/',
    certificate: fs.readFileSync(process.env.HOST_CERT, 'utf8'),
    privateKey: fs.readFileSync(process.env.HOST_KEY, 'utf8'),
    decrypt: process.env.DECRYPT !== 'false', sign: 'sha-256'
  },
  partner: {
    name: 'edigate', id: 'EDIGATE', url: 'http://127.0.0.1/', file: 'EDIX12',
    certificate: fs.readFileSync(process.env.PARTNER_CERT, 'utf8'),
    encrypt: false, verify: process.env.VERIFY !== 'false',
    mdn: { signing: process.env.MDN_SIGNING && process.env.MDN_SIGNING !== 'none' ? process.env.MDN_SIGNING : false }
  }
}

const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', c => chunks.push(c))
  req.on('end', async () => {
    try {
      const node = await AS2Parser.parse({ headers: req.rawHeaders, content: Buffer.concat(chunks) })
      const { contentNode, dispositionNode, disposition } = await node.dispositionOut({ agreement })
      let content = ''
      if (contentNode) {
        content = Buffer.isBuffer(contentNode.content) ? contentNode.content.toString('utf8') : String(contentNode.content)
      }
      console.log(JSON.stringify({ messageId: node.messageId(), notification: disposition.notification, explanation: disposition.explanation, content }))
      const { headers, body } = await dispositionNode.buildObject()
      res.writeHead(200, headers)
      res.end(body)
    } catch (err) {
      console.log(JSON.stringify({ error: String(err && err.stack || err) }))
      res.writeHead(500)
      res.end(String(err))
    }
  })
})
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }))
})

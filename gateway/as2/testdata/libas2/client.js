// A libas2 AS2 sender for the edigate interop test: sends one X12 file to
// URL and prints one JSON line with the MDN it got back, verified with
// PARTNER_CERT (edigate's certificate).
// Environment: URL, HOST_CERT, HOST_KEY (libas2's identity), PARTNER_CERT,
// ENCRYPT (e.g. aes256-CBC, or "none"), SIGN (e.g. sha-256, or "none"),
// PAYLOAD (a file).
'use strict'
const fs = require('fs')
const { AS2Composer, request } = require('libas2')

async function main () {
  const ourCert = fs.readFileSync(process.env.PARTNER_CERT, 'utf8')
  const sign = process.env.SIGN && process.env.SIGN !== 'none' ? process.env.SIGN : false
  const encrypt = process.env.ENCRYPT && process.env.ENCRYPT !== 'none' ? process.env.ENCRYPT : false
  const composer = new AS2Composer({
    message: { filename: 'po.edi', contentType: 'application/edi-x12', content: fs.readFileSync(process.env.PAYLOAD) },
    agreement: {
      host: {
        name: 'libas2 peer', id: 'LIBAS2', url: 'http://127.0.0.1/',
        certificate: fs.readFileSync(process.env.HOST_CERT, 'utf8'),
        privateKey: fs.readFileSync(process.env.HOST_KEY, 'utf8'),
        sign, mdn: { signing: 'sha-256' }
      },
      partner: {
        name: 'edigate', id: 'EDIGATE', url: process.env.URL, file: 'EDIX12',
        certificate: ourCert, encrypt, mdn: { signing: 'sha-256' }
      }
    }
  })
  const options = await composer.toRequestOptions()
  const response = await request(options)
  const mdn = await response.mime()
  const disposition = await mdn.dispositionIn({ cert: ourCert })
  console.log(JSON.stringify({
    status: response.statusCode,
    messageId: composer.message.messageId(),
    notification: disposition.notification
  }))
}

main().catch(err => {
  console.error(err && err.stack || err)
  process.exit(1)
})

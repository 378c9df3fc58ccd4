// rpc-interop: both ends of the wire-compatibility suite (Tests/interop).
//
//   rpc-interop serve [--host H] [--port N]   InteropService + health on our RPCServer;
//                                             prints `PORT <n>`, runs until SIGTERM/SIGINT
//   rpc-interop client --target HOST:PORT     runs the client battery against any server
//                                             (the suite points it at stock grpcio); prints
//                                             one line per check, then `N passed, N failed`
//   TLS: serve --tls-cert PEM --tls-key PEM [--tls-client-ca PEM];
//        client --tls-ca PEM [--tls-cert PEM --tls-key PEM] (see `rpc-interop help`)
let status = await InteropCommand.run(arguments: Array(CommandLine.arguments.dropFirst()))
exitProcess(status)

"""A minimal inetd for the capture scripts: listens on 127.0.0.1:PORT and [::1]:PORT and runs
PROGRAM ARGS... for each connection with the socket as its stdin and stdout, as inetd's `nowait`
does. Loopback only. usage: inetd.py PORT PROGRAM [ARGS...]   (stops when killed)"""
import os, selectors, signal, socket, sys

port, argv = int(sys.argv[1]), sys.argv[2:]
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # no zombies
sel = selectors.DefaultSelector()
for fam, addr in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        conn, _ = key.fileobj.accept()
        if os.fork() == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server waits for its own children
            os.dup2(conn.fileno(), 0)
            os.dup2(conn.fileno(), 1)
            os.execv(argv[0], argv)
        conn.close()

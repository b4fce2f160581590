"""POP3 / IMAP client for the capture scripts: one session from a chosen loopback source address.

usage: client.py pop3|imap PORT SRC USER PASS [ssl|starttls|apop|auth|quitless]
Prints one line saying what the server answered; never raises (a refused login is a result).
Only ever connects to loopback (127.0.0.1 or ::1).
"""
import imaplib, poplib, socket, ssl, sys

proto, port, src, user, password = sys.argv[1:6]
mode = sys.argv[6] if len(sys.argv) > 6 else ''
port = int(port)
dst = '::1' if ':' in src else '127.0.0.1'
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE


def sock():
    fam = socket.AF_INET6 if ':' in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((src, 0))
    s.connect((dst, port))
    return s


class POP(poplib.POP3):
    def __init__(self):
        self.host, self.port, self._tls_established = dst, port, False
        self._debugging = 0
        self.sock = sock()
        if mode == 'ssl':
            self.sock = ctx.wrap_socket(self.sock)
        self.file = self.sock.makefile('rb')
        self.welcome = self._getresp()


class IMAP(imaplib.IMAP4):
    def open(self, host='', port=0, timeout=None):
        self.host, self.port = dst, port
        self.sock = sock()
        if mode == 'ssl':
            self.sock = ctx.wrap_socket(self.sock)
        self.file = self.sock.makefile('rb')


try:
    if proto == 'pop3':
        c = POP()
        if mode == 'starttls':
            c.stls(ctx)
        if mode == 'apop':
            r = c.apop(user, password)
        else:
            c.user(user)
            r = c.pass_(password)
        c.stat()
        if mode != 'quitless':
            c.quit()
        print('pop3', src, user, 'OK', r)
    else:
        c = IMAP(port=port)
        if mode == 'starttls':
            c.starttls(ctx)
        if mode == 'auth':
            r = c.authenticate('PLAIN', lambda _: f'\0{user}\0{password}'.encode())
        else:
            r = c.login(user, password)
        c.select('INBOX')
        if mode != 'quitless':
            c.logout()
        print('imap', src, user, 'OK', r)
except Exception as e:  # the server said no, or closed: that is what we capture
    print(proto, src, user, 'FAILED', type(e).__name__, str(e)[:120])

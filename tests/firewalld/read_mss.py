# Reads the first TCP SYN to port 5001 from a raw socket and prints its MSS option ("none"
# without one). Touches a file named by the first argument once the socket listens, so the
# sender can wait for it. Used by tests/mss.rs and tests/firewalld/lab.sh.
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
s.settimeout(5)
open(sys.argv[1], "w").close()
while True:
    pkt = s.recv(65535)
    tcp = pkt[(pkt[0] & 15) * 4:]
    if struct.unpack("!H", tcp[2:4])[0] != 5001 or not tcp[13] & 2:
        continue
    opts, i = tcp[20:(tcp[12] >> 4) * 4], 0
    while i < len(opts) and opts[i] != 0:
        if opts[i] == 1:
            i += 1
            continue
        if opts[i] == 2:
            print(struct.unpack("!H", opts[i + 2:i + 4])[0])
            sys.exit(0)
        i += opts[i + 1]
    print("none")
    sys.exit(0)

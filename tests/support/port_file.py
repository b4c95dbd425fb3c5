"""How the test servers (smtp_server.py, webhook_server.py, edfi_server.py)
say where they listen: "PORT <n>" on stdout, and n written to --port-file by
an atomic rename, which tests/support/servers.hpp waits for."""
import os


def announce(port, port_file):
    print("PORT %d" % port, flush=True)
    if port_file:
        tmp = port_file + ".tmp"
        with open(tmp, "w") as out:
            out.write("%d\n" % port)
        os.rename(tmp, port_file)

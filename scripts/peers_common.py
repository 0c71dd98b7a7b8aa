"""Shared helpers for the scripts that drive the independent peers in ../shared/tools/peers."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get('CTIBRIDGE_SHARED', os.path.join(HERE, '..', '..', 'shared'))


def load_peers():
    """Copies the read-only peers to a scratch folder once, patches the ASN.1 there, puts it on sys.path."""
    src = os.path.join(SHARED, 'tools', 'peers')
    work = os.path.join(tempfile.gettempdir(), 'ctibridge-peers')
    if not os.path.exists(os.path.join(work, 'asn1', 'patched')):
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(src, work)
        for root, dirs, files in os.walk(work):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
        subprocess.run([sys.executable, 'patch_asn1.py'], cwd=work, check=True, stdout=subprocess.DEVNULL)
    sys.path.insert(0, work)
    return work

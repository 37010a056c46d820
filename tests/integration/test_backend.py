"""The backend a container runs on: chosen at create, shown by `features`
and `state`, and used by every later command."""

import json
import os

from conftest import husk_only


def create_fails(rt, bundle):
    """A create expected to fail, with its stderr through a pipe."""
    cid = rt.new_id()
    bundle.write()
    r = rt.cmd("create", "--bundle", bundle.path, cid).fails()
    r.cid = cid
    return r


@husk_only
def test_features_lists_the_backends(rt):
    ann = json.loads(rt.cmd("features").check().out)["annotations"]
    assert ann["org.husk.backends"].split(",") == ["linux", "vm"]
    assert ann["org.husk.backend.default"] == "linux"


@husk_only
def test_state_names_the_backend_that_was_asked_for(rt, bundle):
    bundle.config["annotations"] = {"run.oci.handler": "linux", "org.example": "x"}
    cid, pid = rt.start_detached(bundle, "/bin/probe", "sleep", "30")
    st = rt.state(cid)
    assert st["annotations"] == {"run.oci.handler": "linux", "org.example": "x",
                                 "org.husk.backend": "linux"}
    # later commands act through the recorded backend
    rt.kill(cid, "KILL").check()
    rt.wait_status(cid, "stopped")
    rt.delete(cid).check()
    rt.assert_nothing_left([cid])


@husk_only
def test_default_backend_leaves_the_state_as_runc_has_it(rt, bundle):
    bundle.config["annotations"] = {"org.example": "x"}
    bundle.set_args("/bin/true")
    cid = rt.create(bundle).check().cid
    assert rt.state(cid)["annotations"] == {"org.example": "x"}
    rt.delete(cid, force=True).check()


@husk_only
def test_unknown_backend_in_annotation_is_refused_and_leaves_nothing(rt, bundle):
    bundle.config["annotations"] = {"run.oci.handler": "krun"}
    bundle.set_args("/bin/true")
    r = create_fails(rt, bundle)
    assert 'annotation run.oci.handler asks for backend "krun"' in r.err
    assert "it has: linux, vm" in r.err
    assert not os.path.exists(os.path.join(rt.root, r.cid))
    rt.assert_nothing_left([r.cid])


@husk_only
def test_program_name_husk_vm_asks_for_the_vm_backend(rt, bundle, tmp_path):
    link = tmp_path / "husk-vm"
    os.symlink(rt.binary, link)
    rt.binary = str(link)
    bundle.set_args("/bin/true")
    # the vm backend's own checks answer (not the linux backend's create)
    bundle.config["vm"] = {"image": {"path": "/x.img", "format": "raw"}}
    r = create_fails(rt, bundle)
    assert "vm.image: not supported" in r.err
    assert not os.path.exists(os.path.join(rt.root, r.cid))
    rt.assert_nothing_left([r.cid])

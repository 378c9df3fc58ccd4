"""A stock grpcio client calls the real storage and edit services directly, with stubs from
storage.proto and edit.proto: with a user's access token, without one, and with another user's.

`imageedit auth`, `imageedit storage` (local store in a temporary folder) and `imageedit edit`
(local engine) run as subprocesses on free ports against the test PostgreSQL.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import grpc
import pytest

from test_grpcio_client_to_auth_service import (  # noqa: F401  (fixtures are used by name)
    RPC_TIMEOUT_S, auth_service, channel, database_url, free_port, login, register, service_environment, start_imageedit, stop_process, stub,
)

FIXTURES = Path(__file__).resolve().parents[1] / "ImagingTests" / "Fixtures"


def start_service(pb, name: str, environment: dict[str, str], port: int, service_name: str, log_dir: Path, cwd: str):
    return start_imageedit(pb, name, environment, port, service_name, log_dir / f"imageedit-{name}.log", cwd)


@pytest.fixture(scope="module")
def image_services(pb, database_url, auth_service, log_dir):  # noqa: F811
    with tempfile.TemporaryDirectory(prefix="image-services-") as data_dir:
        storage_port, edit_port = free_port(), free_port()
        common = {"AUTH_ADDRESS": auth_service.target}
        storage = start_service(
            pb, "storage",
            service_environment(database_url, data_dir, STORAGE_PORT=str(storage_port), STORAGE_DIR=f"{data_dir}/blobs", **common),
            storage_port, "imageedit.storage.v1.StorageService", log_dir, data_dir)
        edit = start_service(
            pb, "edit", service_environment(database_url, data_dir, EDIT_PORT=str(edit_port), **common),
            edit_port, "imageedit.edit.v1.EditService", log_dir, data_dir)
        with grpc.insecure_channel(f"127.0.0.1:{storage_port}") as storage_channel, \
             grpc.insecure_channel(f"127.0.0.1:{edit_port}") as edit_channel:
            yield pb.storage_pb2_grpc.StorageServiceStub(storage_channel), pb.edit_pb2_grpc.EditServiceStub(edit_channel)
        stop_process(edit)
        stop_process(storage)
        assert edit.returncode == 0 and storage.returncode == 0, "a service did not exit cleanly on SIGTERM"


def bearer(token: str):
    return (("authorization", f"Bearer {token}"),)


def token_for(pb, stub) -> str:  # noqa: F811
    return login(pb, stub, register(pb, stub)).tokens.access_token


def test_edit_then_store_list_fetch_and_delete_with_a_token(pb, stub, image_services):  # noqa: F811
    storage, edit = image_services
    token = token_for(pb, stub)
    png = (FIXTURES / "gradient-64x48.png").read_bytes()
    edited = edit.EditImage(pb.edit_pb2.EditImageRequest(image=png, prompt="grayscale, then rotate left"),
                            metadata=bearer(token), timeout=RPC_TIMEOUT_S)
    assert edited.backend == "local"
    assert list(edited.applied_operations) == ["grayscale", "rotate:270"]
    assert (edited.original.content_type, edited.original.width, edited.original.height) == ("image/png", 64, 48)
    assert (edited.edited.width, edited.edited.height) == (48, 64)
    assert edited.edited_image.startswith(b"\x89PNG\r\n\x1a\n")

    info = edit.InspectImage(pb.edit_pb2.InspectImageRequest(image=(FIXTURES / "gradient-64x48.jpg").read_bytes()),
                             metadata=bearer(token), timeout=RPC_TIMEOUT_S)
    assert (info.info.content_type, info.info.width) == ("image/jpeg", 64)

    content = pb.storage_pb2.ImageContent
    created = storage.CreateImage(pb.storage_pb2.CreateImageRequest(
        original=content(data=png, content_type="image/png", width=64, height=48),
        edited=content(data=edited.edited_image, content_type="image/png", width=48, height=64),
        prompt="grayscale, then rotate left", backend="local", model="local"), metadata=bearer(token), timeout=RPC_TIMEOUT_S)
    image = created.image
    assert image.id > 0 and image.width == 64 and image.original_url.startswith("/blobs/")

    listed = storage.ListImages(pb.storage_pb2.ListImagesRequest(), metadata=bearer(token), timeout=RPC_TIMEOUT_S)
    assert listed.total_count == 1 and listed.images[0].id == image.id
    got = storage.GetImageContent(pb.storage_pb2.GetImageContentRequest(id=image.id, version=pb.storage_pb2.IMAGE_VERSION_ORIGINAL),
                                  metadata=bearer(token), timeout=RPC_TIMEOUT_S)
    assert got.content.data == png

    # The signed link needs no token; a tampered one is refused.
    path, query = image.original_url.split("?", 1)
    fields = dict(part.split("=", 1) for part in query.split("&"))
    blob = storage.GetSignedBlob(pb.storage_pb2.GetSignedBlobRequest(
        key=path[len("/blobs/"):], expires=int(fields["expires"]), signature=fields["signature"]), timeout=RPC_TIMEOUT_S)
    assert blob.data == png
    with pytest.raises(grpc.RpcError) as denied:
        storage.GetSignedBlob(pb.storage_pb2.GetSignedBlobRequest(
            key=path[len("/blobs/"):], expires=int(fields["expires"]) + 1, signature=fields["signature"]), timeout=RPC_TIMEOUT_S)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # Another user's token: the image does not exist for them.
    other = token_for(pb, stub)
    for call, request in [
        (storage.GetImage, pb.storage_pb2.GetImageRequest(id=image.id)),
        (storage.DeleteImage, pb.storage_pb2.DeleteImageRequest(id=image.id)),
        (storage.GetImageContent, pb.storage_pb2.GetImageContentRequest(id=image.id, version=pb.storage_pb2.IMAGE_VERSION_EDITED)),
    ]:
        with pytest.raises(grpc.RpcError) as raised:
            call(request, metadata=bearer(other), timeout=RPC_TIMEOUT_S)
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND

    storage.DeleteImage(pb.storage_pb2.DeleteImageRequest(id=image.id), metadata=bearer(token), timeout=RPC_TIMEOUT_S)
    with pytest.raises(grpc.RpcError) as gone:
        storage.GetImage(pb.storage_pb2.GetImageRequest(id=image.id), metadata=bearer(token), timeout=RPC_TIMEOUT_S)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND


def test_without_a_valid_token_nothing_is_done(pb, stub, image_services):  # noqa: F811
    storage, edit = image_services
    png = (FIXTURES / "gradient-64x48.png").read_bytes()
    refresh = login(pb, stub, register(pb, stub)).tokens.refresh_token
    for metadata in [(), (("authorization", "Bearer not.a.token"),), bearer(refresh), (("authorization", "Basic abc"),)]:
        for call, request in [
            (edit.EditImage, pb.edit_pb2.EditImageRequest(image=png)),
            (storage.ListImages, pb.storage_pb2.ListImagesRequest()),
            (storage.DeleteImage, pb.storage_pb2.DeleteImageRequest(id=1)),
        ]:
            with pytest.raises(grpc.RpcError) as raised:
                call(request, metadata=metadata, timeout=RPC_TIMEOUT_S)
            assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_bad_images_are_invalid_argument(pb, stub, image_services):  # noqa: F811
    _, edit = image_services
    token = token_for(pb, stub)
    for name in ["text-named.png", "truncated.png", "bomb-100000x100000.png"]:
        with pytest.raises(grpc.RpcError) as raised:
            edit.EditImage(pb.edit_pb2.EditImageRequest(image=(FIXTURES / name).read_bytes()), metadata=bearer(token), timeout=RPC_TIMEOUT_S)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, name
        assert raised.value.details()
    with pytest.raises(grpc.RpcError) as raised:
        edit.EditImage(pb.edit_pb2.EditImageRequest(image=(FIXTURES / "gradient-64x48.png").read_bytes(), prompt="x" * 1001),
                       metadata=bearer(token), timeout=RPC_TIMEOUT_S)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT

"""Images of the guidelines: managers upload them, every member of the project loads them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from accord.api.deps import CurrentUser, ReadSessionDep, SessionDep, SettingsDep, StorageDep
from accord.api.media_response import media_response
from accord.core import guideline_images, projects
from accord.core.policies import ProjectPolicy, authorize

router = APIRouter(prefix="/projects/{project_id}/guideline-images", tags=["guidelines"])

# The address names the bytes (their SHA-256), so what it shows never changes.
CACHE = "private, max-age=31536000, immutable"


class GuidelineImageOut(BaseModel):
    name: str = Field(description="<sha256 of the bytes>.<png|jpg|gif|webp>")
    url: str = Field(description="where the project's members load the image from")
    markdown: str = Field(description="the image as markdown, to put in the guidelines")
    content_type: str = Field(description="the format found in the bytes")
    size: int = Field(description="bytes")
    created: bool = Field(description="false when the same image was already stored")


@router.post(
    "",
    response_model=GuidelineImageOut,
    status_code=201,
    responses={
        200: {"description": "The same image was already stored: nothing new is stored."},
        413: {"description": "The image is over ACCORD_GUIDELINE_IMAGE_MAX_BYTES."},
        422: {"description": "The bytes are not a PNG, JPEG, GIF or WebP image."},
    },
)
def upload_image(
    project_id: int,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    storage: StorageDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="a PNG, JPEG, GIF or WebP image")],
) -> GuidelineImageOut:
    """Store an image for the guidelines (managers); the same bytes give the same address."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    image = guideline_images.upload(
        session,
        storage,
        project,
        file.file,
        filename=file.filename,
        max_bytes=settings.guideline_image_max_bytes,
        actor_id=user.id,
    )
    if not image.created:
        response.status_code = 200
    return GuidelineImageOut(
        name=image.name,
        url=image.url,
        markdown=guideline_images.markdown_for(image, file.filename),
        content_type=image.content_type,
        size=image.size,
        created=image.created,
    )


@router.get(
    "/{name}",
    response_class=FileResponse,
    responses={307: {"description": "Redirect to the image's URL (S3)"}},
)
def get_image(
    project_id: int, name: str, session: ReadSessionDep, user: CurrentUser, storage: StorageDep
) -> Response:
    """An image of the project's guidelines, for any member of the project."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    source = guideline_images.source(storage, project.id, name)
    return media_response(source, {"Cache-Control": CACHE, "X-Content-Type-Options": "nosniff"})

"""Who may do what. Handlers call ``authorize(session, user, ProjectPolicy.<action>(project))``.

Project roles are ordered: annotator < reviewer < manager. Global admins may do everything.
A user who is not a member does not learn that a project exists (NotFound, not Forbidden).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from sqlalchemy.orm import Session

from accord.db.engine import keep_loaded
from accord.db.models import Membership, Project, User
from accord.errors import Forbidden, NotFound


class Role(IntEnum):
    annotator = 1
    reviewer = 2
    manager = 3

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name]
        except KeyError as exc:
            raise ValueError(f"unknown role {name!r}; use annotator, reviewer or manager") from exc


@dataclass(frozen=True)
class Permission:
    project: Project
    needs: Role
    action: str


class ProjectPolicy:
    """The actions on a project and the least role each needs."""

    @staticmethod
    def view(project: Project) -> Permission:
        return Permission(project, Role.annotator, "view this project")

    @staticmethod
    def annotate(project: Project) -> Permission:
        return Permission(project, Role.annotator, "annotate")

    @staticmethod
    def view_all_annotations(project: Project) -> Permission:
        return Permission(project, Role.reviewer, "see other people's annotations")

    @staticmethod
    def review(project: Project) -> Permission:
        return Permission(project, Role.reviewer, "review")

    @staticmethod
    def manage(project: Project) -> Permission:
        return Permission(project, Role.manager, "manage this project")


def role_in(session: Session, user: User, project_id: int) -> Role | None:
    """The user's effective role; admins act as managers everywhere."""
    if user.is_admin:
        return Role.manager
    # The whole row by primary key, kept: the queue's pause and gate checks that follow in the
    # same request then find it in the session instead of asking the database again.
    membership = session.get(Membership, (project_id, user.id))
    if membership is None:
        return None
    keep_loaded(session, membership)
    return Role[membership.role] if membership.role else None


def authorize(session: Session, user: User, permission: Permission) -> Role:
    role = role_in(session, user, permission.project.id)
    if role is None:
        raise NotFound(f"project {permission.project.id} not found")
    if role < permission.needs:
        raise Forbidden(f"you need the {permission.needs.name} role to {permission.action}")
    return role


def can(session: Session, user: User, permission: Permission) -> bool:
    role = role_in(session, user, permission.project.id)
    return role is not None and role >= permission.needs


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("only an administrator may do this")

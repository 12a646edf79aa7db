"""Attendance, participation rates and professional-learning hours. (Being built.)"""

from __future__ import annotations

from copnet.kernel.service import ServiceContext


class AttendanceApi:
    ctx: ServiceContext

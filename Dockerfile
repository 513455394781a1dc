# FleetTwin container image: the silo (entry point) and the fleettwin CLI, on the ASP.NET runtime, as a non-root user.
#   docker build -t fleettwin:latest .
#   docker run --rm -p 8080:8080 fleettwin:latest            # embedded defaults; add --demo to seed sample data
#   docker run --rm --entrypoint fleettwin fleettwin:latest --help   # the CLI
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props FleetTwin.sln ./
COPY src/ src/
COPY tests/FleetTwin.Ingest.Tests/Golden/kb-incident/ tests/FleetTwin.Ingest.Tests/Golden/kb-incident/
RUN dotnet publish src/FleetTwin.Silo -c Release -o /out/silo \
 && dotnet publish src/FleetTwin.Cli -c Release -o /out/cli

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /out/silo /app/silo
COPY --from=build /out/cli /app/cli
RUN printf '#!/bin/sh\nexec dotnet /app/cli/fleettwin.dll "$@"\n' > /usr/local/bin/fleettwin && chmod 755 /usr/local/bin/fleettwin
# The .NET images' unprivileged user (uid 1654); k8s/base/silo/deployment.yaml runs as the same uid.
USER app
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    DOTNET_gcServer=1
EXPOSE 8080 5000 5514 5514/udp 11111 30000
ENTRYPOINT ["dotnet", "/app/silo/fleettwin-silo.dll"]

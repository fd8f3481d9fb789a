// main() of the ESP engine test binaries: EAL and the mbuf pool
// (esp_fixture.h) around every test.
#include "tests/unit/dataplane/esp_fixture.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new corridor::dataplane::ipsec::testing::EngineEnvironment);
  return RUN_ALL_TESTS();
}
